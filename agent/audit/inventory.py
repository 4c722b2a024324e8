"""The asset inventory (A.5.9, with classification for A.5.12): every resource the evidence holds.

Read from sealed evidence only: the newest successful listing of each source and scope among the
counted entries (finished by `--as-of` when given), so the inventory is what the chain proves was
there, never what a run still in progress or an edited row says. A resource whose newest listing
is older than its scope's failed ones is still listed, with the listing's time beside it.

Each record becomes one row through the asset reader its source declares (`@asset_reader`, next to
the checks that read the same evidence): a type, a name and its tags. A source without a reader is
listed too, each resource as its id under the source's name: every collected resource appears.
Owner and classification are the first tag `[inventory]` names that the resource carries; the
document records which names those were, so a bundle's inventory.json re-derives without the config.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import col

from agent.audit.samples import RecordRows, Seen, stored_rows
from agent.canonical import canonical_json
from agent.config.sections import InventorySettings
from agent.errors import AnnexaError, UsageError
from agent.plugin.model import Asset, Record
from agent.plugin.registry import AssetReaderSpec, Registry
from agent.plugin.scopes import without_superseded
from agent.store import Store
from agent.store.chain import read_counted
from agent.store.runs import newest_per_scope, proven_by
from agent.store.schema import Observation
from agent.tables import save_xlsx, table_csv

COLUMNS = (
    "system",
    "account",
    "region",
    "type",
    "id",
    "name",
    "owner",
    "classification",
    "tags",
    "source",
    "scope",
    "collected_at",
    "evidence",
)


class InventoryFailed(AnnexaError):
    """A record could not be read as an asset (an asset reader that does not fit its evidence)."""

    exit_code = 1


@dataclass(frozen=True)
class TagNames:
    """The tags that name an asset's owner and its classification, the first one carried winning."""

    owner: tuple[str, ...]
    classification: tuple[str, ...]

    @classmethod
    def of(cls, settings: InventorySettings) -> TagNames:
        return cls(tuple(settings.owner_tags), tuple(settings.classification_tags))

    @classmethod
    def recorded(cls, doc: Mapping[str, Any]) -> TagNames:
        """The names an inventory document says it was built with."""
        return cls(tuple(doc["owner_tags"]), tuple(doc["classification_tags"]))


def scope_parts(scope: str) -> tuple[str, str, str]:
    """(system, account, region) of a scope, whatever the system: its first, second and the rest of
    its parts (`aws:123456789012:eu-west-1`, `gcp:organizations/1`), empty where absent."""
    parts = scope.split(":", 2)
    parts += [""] * (3 - len(parts))
    return parts[0], parts[1], parts[2]


def newest_listings(seen: Iterable[Seen]) -> list[Seen]:
    """The newest of these successful listings per (source, scope), a later one winning a tie (the
    order the store wrote them), less stand-in scopes their parts' newer listings replaced: the
    selection `newest_per_scope` makes in SQL, over a bundle's runs."""
    newest: dict[tuple[str, str], Seen] = {}
    for s in seen:
        held = newest.get((s.source, s.scope))
        if held is None or s.collected_at >= held.collected_at:
            newest[(s.source, s.scope)] = s
    by_source: dict[str, list[Seen]] = {}
    for s in newest.values():
        by_source.setdefault(s.source, []).append(s)
    return [
        s
        for source in sorted(by_source)
        for s in without_superseded(by_source[source], lambda x: x.scope, lambda x: x.collected_at)
    ]


def stored_listings(store: Store, at: datetime | None = None) -> list[Seen]:
    """The newest successful listing of each (source, scope) in the store's counted entries
    (finished by `at` when given): the agent's own `newest_per_scope`, limited to listings."""
    observations = read_counted(
        store,
        lambda counted: newest_per_scope(
            store,
            Observation,
            col(Observation.source),
            col(Observation.collected_at),
            counted,
            col(Observation.status) == "ok",
            col(Observation.tree_hash).is_not(None),
            *proven_by(at),
        ),
    )
    return [Seen(o.source, o.scope, o.collected_at, o.hash, o.tree_hash or "") for o in observations]


def read_asset(readers: Mapping[str, AssetReaderSpec], record: Record) -> Asset:
    """The record as its source's reader sees it; without a reader, its id under the source's name."""
    spec = readers.get(record.source)
    if spec is None:
        return Asset(record.source, record.resource_id)
    try:
        asset = spec.func(record)
    except (LookupError, TypeError, ValueError, AttributeError) as exc:
        raise InventoryFailed(
            f"{record.source} in {record.scope}: {record.resource_id} cannot be read as an asset ({exc!r})"
        ) from None
    if not isinstance(asset, Asset):
        raise InventoryFailed(f"the asset reader of {record.source} returned {type(asset).__name__}")
    return asset


def _first(tags: Mapping[str, str], names: Sequence[str]) -> str:
    return next((tags[n] for n in names if tags.get(n)), "")


def inventory_document(
    listings: Sequence[Seen],
    rows: RecordRows,
    readers: Mapping[str, AssetReaderSpec],
    names: TagNames,
) -> dict[str, Any]:
    """Each listing (source, scope, when, its observation and tree) and each resource they hold as a
    row of `COLUMNS` (`tags` a {key: value} object, `evidence` the record's hash), ordered by scope,
    source and id: the JSON the command prints and a bundle carries, and the rows its CSV has."""
    assets: list[dict[str, Any]] = []
    listed: list[dict[str, Any]] = []
    for s in listings:
        system, account, region = scope_parts(s.scope)
        count = 0
        for rid, digest, data in rows(s):
            count += 1
            asset = read_asset(readers, Record(rid, data, s.source, s.scope, digest))
            tags = {str(k): str(v) for k, v in sorted(asset.tags.items())}
            assets.append(
                {
                    "system": system,
                    "account": account,
                    "region": region,
                    "type": str(asset.type),
                    "id": rid,
                    "name": str(asset.name),
                    "owner": _first(tags, names.owner),
                    "classification": _first(tags, names.classification),
                    "tags": tags,
                    "source": s.source,
                    "scope": s.scope,
                    "collected_at": s.collected_at.isoformat(),
                    "evidence": digest,
                }
            )
        listed.append(
            {
                "source": s.source,
                "scope": s.scope,
                "collected_at": s.collected_at.isoformat(),
                "observation": s.observation,
                "tree": s.tree,
                "resources": count,
            }
        )
    assets.sort(key=lambda a: (a["scope"], a["source"], a["id"]))
    return {
        "owner_tags": list(names.owner),
        "classification_tags": list(names.classification),
        "listings": listed,
        "assets": assets,
    }


def store_inventory(
    store: Store, registry: Registry, settings: InventorySettings, at: datetime | None = None
) -> dict[str, Any]:
    """`annexa inventory`: the inventory of the store's sealed evidence (as of `at` when given)."""
    return inventory_document(
        stored_listings(store, at), stored_rows(store), registry.asset_readers, TagNames.of(settings)
    )


def _table(doc: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The rows as a spreadsheet holds them: the tags as one canonical JSON cell."""
    for asset in doc["assets"]:
        yield {**asset, "tags": canonical_json(asset["tags"])}


def render_csv(doc: Mapping[str, Any]) -> str:
    """One row per asset, every text cell neutralised for spreadsheets (agent/tables.py)."""
    return table_csv(COLUMNS, _table(doc))


def write_inventory(doc: Mapping[str, Any], fmt: str, out: Path | None) -> str | None:
    """Write the inventory to `out`, or return the text for stdout (xlsx needs a file)."""
    if fmt == "xlsx":
        if out is None:
            raise UsageError("--format xlsx needs --output FILE.xlsx")
        save_xlsx(COLUMNS, _table(doc), "Asset inventory", out)
        return None
    # JSON keeps to ASCII: a name or tag holding a terminal control or a bidi override reaches the
    # terminal escaped (\u009b), never as the control itself.
    text = render_csv(doc) if fmt == "csv" else json.dumps(doc, indent=2) + "\n"
    if out is None:
        return text
    out.write_text(text, encoding="utf-8")
    return None
