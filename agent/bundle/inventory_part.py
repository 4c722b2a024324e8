"""The bundle's asset inventory: inventory.json and inventory.csv, from the bundle's own evidence.

Built at export from the listings the bundle carries (its period's counted runs, the newest
successful listing of each source and scope, of the sources its evidence holds), read by the asset
readers the check packages declare, with the owner and classification tag names the document
records. `annexa verify` rebuilds it from runs.json and the evidence files alone, with the same
readers and the recorded tag names, and names every asset that differs: an inventory edited after
export, or one claiming resources the evidence does not hold, does not verify.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from agent.audit.inventory import TagNames, inventory_document, newest_listings, render_csv
from agent.audit.samples import counted_listings, selected_runs, stored_rows
from agent.audit.sampling import EvidenceUnreadable
from agent.bundle.layout import FORMAT, RUNS
from agent.bundle.selection import Selection
from agent.bundle.zipsafe import read_bounded
from agent.config.settings import Settings
from agent.errors import AnnexaError
from agent.plugin.registry import Registry
from agent.proof import Report
from agent.store import Store

INVENTORY = "inventory.json"
INVENTORY_CSV = "inventory.csv"
MAX_INVENTORY = 256 << 20  # parsed whole
SHOWN = 5  # differences named one by one; the rest are counted


class _Writer(Protocol):
    def json(self, path: str, value: Any) -> None: ...

    def write(self, path: str, data: bytes | str) -> None: ...


def write_inventory(w: _Writer, store: Store, settings: Settings, registry: Registry, sel: Selection) -> None:
    """inventory.json and inventory.csv of the listings the bundle carries."""
    listings = newest_listings(counted_listings(selected_runs(sel), sel.sources))
    doc = inventory_document(
        listings, stored_rows(store), registry.asset_readers, TagNames.of(settings.inventory)
    )
    w.json(INVENTORY, doc)
    w.write(INVENTORY_CSV, render_csv(doc))


def check_inventory(zf: zipfile.ZipFile, manifest: Any, docs: dict[str, Any], r: Report) -> None:
    """Re-derive inventory.json and its CSV from the bundle's runs and evidence. Both are required
    since format 3; a format 2 bundle may predate them (a note, then)."""
    listed = {f.path: f for f in manifest.files}
    absent = [name for name in (INVENTORY, INVENTORY_CSV) if name not in listed]
    if absent and manifest.format == FORMAT:
        r.problems.append(f"{', '.join(absent)}: not in the manifest, which format {FORMAT} requires")
    if INVENTORY not in listed:
        if manifest.format != FORMAT:
            r.notes.append(f"no {INVENTORY} in this bundle: its asset inventory was not exported")
        return
    if listed[INVENTORY].size > MAX_INVENTORY:
        r.problems.append(f"{INVENTORY} is larger than the {MAX_INVENTORY} bytes this verifier parses")
        return
    body = _unmodified(zf, listed, INVENTORY)
    if body is None or not {RUNS, "checks.json"} <= set(docs):
        return  # named already: a missing or modified file, or a document that could not be read
    try:
        declared = json.loads(body)
        derived = _derived(zf, listed, docs, TagNames.recorded(declared))
    except EvidenceUnreadable as exc:
        r.problems.append(f"{INVENTORY}: cannot be re-derived: {exc}")
        return
    except (LookupError, TypeError, ValueError, AttributeError, RecursionError, AnnexaError) as exc:
        r.problems.append(f"{INVENTORY}: cannot be re-derived from the bundle ({type(exc).__name__}: {exc})")
        return
    problems = list(_changes(declared, derived))
    r.problems.extend(problems[:SHOWN])
    if len(problems) > SHOWN:
        r.problems.append(f"{INVENTORY}: and {len(problems) - SHOWN} more difference(s)")
    table = _unmodified(zf, listed, INVENTORY_CSV) if INVENTORY_CSV in listed else None
    if table is not None and table != render_csv(derived).encode():
        r.problems.append(f"{INVENTORY_CSV}: differs from the inventory the bundle's evidence gives")


def _unmodified(zf: zipfile.ZipFile, listed: Mapping[str, Any], name: str) -> bytes | None:
    """The file's bytes when present and as the manifest declares it (else it is named already)."""
    if name not in zf.namelist() or listed[name].size > MAX_INVENTORY:
        return None
    body = read_bounded(zf, name, listed[name].size)
    return body if hashlib.sha256(body).hexdigest() == listed[name].sha256 else None


def _derived(
    zf: zipfile.ZipFile, listed: Mapping[str, Any], docs: dict[str, Any], names: TagNames
) -> dict[str, Any]:
    from agent.bundle.samples import bundle_rows
    from agent.plugin.loader import load_plugins

    registry = load_plugins(Registry(), systems=())
    available = {n for c in docs["checks.json"] for n in (*c["needs"], *(c.get("context") or []))}
    runs = ((d["identity"].get("status"), d["observations"]) for d in docs[RUNS])
    sizes = {path: f.size for path, f in listed.items()}
    listings = newest_listings(counted_listings(runs, available))
    return inventory_document(listings, bundle_rows(zf, sizes), registry.asset_readers, names)


def _changes(declared: Any, derived: dict[str, Any]) -> Iterator[str]:
    """Assets added or left out by (source, id), then any other difference by path."""
    from agent.bundle.verify_period import differences

    def keys(doc: Any) -> list[tuple[str, str, str]]:
        assets = doc.get("assets") if isinstance(doc, dict) else None
        return [
            (str(a.get("scope")), str(a.get("source")), str(a.get("id")))
            for a in assets or []
            if isinstance(a, dict)
        ]

    held, given = keys(declared), keys(derived)
    if held != given:
        for scope, source, rid in sorted(set(held) - set(given)):
            yield f"{INVENTORY}: lists {source} {rid} in {scope}, which the bundle's evidence does not hold"
        for scope, source, rid in sorted(set(given) - set(held)):
            yield f"{INVENTORY}: leaves out {source} {rid} in {scope}, which the bundle's evidence holds"
        if set(held) == set(given):
            yield f"{INVENTORY}: its assets are not in the order the bundle's evidence gives"
        return
    yield from differences(declared, derived, INVENTORY)
