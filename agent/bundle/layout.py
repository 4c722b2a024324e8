"""The bundle's format, shared by export and verify: file names, and each entry's JSON shape.

Every document here holds plain JSON values (datetimes as ISO 8601 strings), the same values the
store hashed, so a verifier recomputes every hash from what it reads.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from agent.store.hashing import run_identity
from agent.store.schema import Attestation, CheckRun, NcTransition, NcVersion, Observation, Run

FORMAT = "annexa-bundle/3"  # 3: every bundle carries its asset inventory (inventory.json, .csv)
READABLE_FORMATS = frozenset({"annexa-bundle/2", FORMAT})  # 2: the same, the inventory optional
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "public_key.pem"
CHAIN = "chain.json"
RUNS = "runs.json"
NCS = "nonconformities.json"
ATTESTATIONS = "attestations.json"


def plain(value: Any) -> Any:
    """Datetimes and dates as ISO 8601, recursively: what canonical JSON hashes them as."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return plain_dict(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def plain_dict(doc: dict[str, Any]) -> dict[str, Any]:
    """`plain` of each value of a document."""
    return {k: plain(v) for k, v in doc.items()}


def evidence_path(source: str, tree: str) -> str:
    return f"evidence/{source}/{tree}.ndjson"


def results_path(result_set: str) -> str:
    return f"results/{result_set}.ndjson"


def spine_entry(run: Run) -> dict[str, Any]:
    """What re-derives a root without the run's content: its identity, seal, links and signature."""
    return {
        "id": run.id,
        "identity": plain(run_identity(run.model_dump())),
        "prev": run.prev_root_hash,
        "root": run.root_hash,
        "seal": run.seal,
        "signature": run.signature,
    }


def observation_doc(o: Observation) -> dict[str, Any]:
    return plain_dict(o.model_dump(exclude={"id", "run_id"}))


def check_run_doc(c: CheckRun) -> dict[str, Any]:
    return plain_dict(c.model_dump(exclude={"id", "run_id"}))


def version_doc(v: NcVersion) -> dict[str, Any]:
    return {"nc_id": v.nc_id, "version": v.version, "hash": v.hash, "document": v.document}


def row_doc(row: NcTransition | Attestation) -> dict[str, Any]:
    return plain_dict(row.model_dump())


def run_doc(
    run: Run,
    observations: list[Observation],
    check_runs: list[CheckRun],
    versions: list[NcVersion],
    transitions: list[NcTransition],
    attestations: list[Attestation],
) -> dict[str, Any]:
    """A run of the period in full: enough to recompute every part of its seal."""
    return {
        **spine_entry(run),
        "observations": [observation_doc(o) for o in observations],
        "check_runs": [check_run_doc(c) for c in check_runs],
        "nc_versions": [version_doc(v) for v in versions],
        "transitions": [row_doc(t) for t in transitions],
        "attestations": [row_doc(a) for a in attestations],
    }
