"""Re-deriving a bundle's chain: the spine of seals from the first entry to the head, each period
run's seal from its content, and the NC register and attestations from the seals that commit them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent.audit.nonconformities import register_document
from agent.bundle.layout import evidence_path, results_path
from agent.bundle.streams import Listing, ResultSet
from agent.canonical import content_hash
from agent.proof import Report
from agent.store.chain import SealKeys
from agent.store.hashing import (
    COUNTS,
    GENESIS,
    attestation_hash,
    check_run_hash,
    nc_hash,
    observation_hash,
    root_of,
)
from agent.store.results import outcome_of_statuses

_COUNT_OF = {"passed": "pass", "failed": "fail", "errored": "error", "not_applicable": "not_applicable"}


def check_spine(spine: list[dict[str, Any]], keys: SealKeys, r: Report) -> dict[int, dict[str, Any]]:
    """Every root re-derived from its seal and predecessor and signed by the key; returns the
    entries by run id."""
    prev = GENESIS
    by_id: dict[int, dict[str, Any]] = {}
    for e in spine:
        label = f"chain entry {e['id']}"
        if e["prev"] != prev:
            r.problems.append(f"{label}: not linked to the previous entry's root (chain broken)")
        seal = e["seal"]
        if seal is None:
            r.notes.append(f"{label} was sealed before outcomes were committed: linked, not re-derived")
        else:
            if seal.get("run") != content_hash(e["identity"]):
                r.problems.append(f"{label}: its status, times or error differ from what was sealed")
            if root_of(e["prev"], seal) != e["root"]:
                r.problems.append(f"{label}: root does not re-derive from its seal and predecessor")
            if not keys.valid(e["root"], e["signature"]):
                what = "is not signed" if not e["signature"] else "has a signature that does not verify"
                r.problems.append(f"{label} {what} under the bundle's key")
        by_id[e["id"]] = e
        prev = e["root"]
    return by_id


def part(values: list[Any]) -> str:
    return content_hash(sorted(values))


class RunChecker:
    """Recomputes each part of a period run's seal from the bundle's content."""

    def __init__(
        self,
        r: Report,
        spine: dict[int, dict[str, Any]],
        listing: Callable[[str], Listing | None],
        results: Callable[[str], ResultSet | None],
        sources: set[str],
        checks: set[str],
    ) -> None:
        self.r, self.spine, self.listing, self.results = r, spine, listing, results
        self.sources, self.checks = sources, checks

    def run(self, doc: dict[str, Any]) -> None:
        label = f"run {doc['id']}"
        entry = self.spine.get(doc["id"])
        if entry is None or entry["root"] != doc["root"] or entry["seal"] != doc["seal"]:
            self.r.problems.append(f"{label}: not the entry the chain holds under that id")
            return
        uid = entry["identity"]["uid"]
        seal = entry["seal"] or {}
        parts = {
            "observations": self._observations(doc, uid, label),
            "checks": self._checks(doc, uid, label),
            "ncs": self._ncs(doc, label),
            "transitions": part(
                [self._hashed(t, uid, label, "history step", _transition) for t in doc["transitions"]]
            ),
            "attestations": part(
                [self._hashed(a, uid, label, "attestation", attestation_hash) for a in doc["attestations"]]
            ),
        }
        for name, digest in parts.items():
            if seal.get(name) != digest:
                self.r.problems.append(
                    f"{label}: its {name} differ from what was sealed (added, removed or moved)"
                )

    def _hashed(self, row: dict[str, Any], uid: str, label: str, what: str, fn: Callable[..., str]) -> str:
        if fn(row, uid) != row["hash"]:
            self.r.problems.append(f"{label}: {what} {row['id']} does not match its hash")
        return str(row["hash"])

    def _observations(self, doc: dict[str, Any], uid: str, label: str) -> str:
        hashes = []
        for o in doc["observations"]:
            if observation_hash(o, uid) != o["hash"]:
                self.r.problems.append(
                    f"{label}: observation {o['source']} {o['scope']} does not match its hash"
                )
            hashes.append(o["hash"])
            if o["tree_hash"] and o["source"] in self.sources:
                path = evidence_path(o["source"], o["tree_hash"])
                found = self.listing(path)
                if found is None:
                    self.r.problems.append(f"{label}: evidence {path} is missing")
                elif found.tree != o["tree_hash"] or found.count != o["record_count"]:
                    self.r.problems.append(
                        f"{path}: listing does not match its observation (hash or record count)"
                    )
        return part(hashes)

    def _checks(self, doc: dict[str, Any], uid: str, label: str) -> str:
        hashes = []
        for cr in doc["check_runs"]:
            where = f"{label}: check run {cr['check_id']} {cr['scope']}"
            if check_run_hash(uid, cr) != cr["hash"]:
                self.r.problems.append(f"{where}: does not match its hash (outcome or counts edited)")
            hashes.append(cr["hash"])
            if cr["check_id"] not in self.checks:
                continue
            found = self.results(results_path(cr["result_set"]))
            if found is None:
                self.r.problems.append(f"{where}: results {results_path(cr['result_set'])} are missing")
            elif found.hash != cr["result_set"]:
                self.r.problems.append(f"{results_path(cr['result_set'])}: results do not match their hash")
            elif any(cr[k] != found.statuses.get(_COUNT_OF[k], 0) for k in COUNTS) or (
                cr["outcome"] != outcome_of_statuses(found.statuses).value
            ):
                self.r.problems.append(f"{where}: outcome or counts do not follow from its results")
        return part(hashes)

    def _ncs(self, doc: dict[str, Any], label: str) -> str:
        versions = []
        for v in doc["nc_versions"]:
            if not _version_ok(v):
                self.r.problems.append(
                    f"{label}: version {v['version']} of NC {v['nc_id']} does not match its hash"
                )
            versions.append([v["nc_id"], v["version"], v["hash"]])
        return part(versions)


def _transition(t: dict[str, Any], uid: str) -> str:
    from agent.store.hashing import transition_hash

    return transition_hash(t, uid)


def _version_ok(v: dict[str, Any]) -> bool:
    d = v["document"]
    return nc_hash(d) == v["hash"] and (d.get("id"), d.get("version")) == (v["nc_id"], v["version"])


def check_register_lists(
    registers: dict[str, dict[str, list[Any]]], spine: dict[int, dict[str, Any]], r: Report
) -> None:
    for rid, lists in registers.items():
        entry = spine.get(int(rid))
        seal = (entry or {}).get("seal") or {}
        for name in ("ncs", "transitions", "attestations"):
            if seal.get(name) != part(lists[name]):
                r.problems.append(f"chain.json: entry {rid}'s {name} list does not match its seal")


def check_nc_register(
    ncs: list[dict[str, Any]],
    registers: dict[str, dict[str, list[Any]]],
    spine: dict[int, dict[str, Any]],
    r: Report,
) -> None:
    """Each NC is a version some seal commits to, and its history steps are sealed too."""
    for nc in ncs:
        sealed = nc["sealed"]
        label = f"nonconformities.json: {nc['id']}"
        lists = registers.get(str(sealed["run_id"]), {})
        if not _version_ok(sealed) or [sealed["nc_id"], sealed["version"], sealed["hash"]] not in lists.get(
            "ncs", []
        ):
            r.problems.append(f"{label}: not a version any seal commits to")
        elif {k: v for k, v in nc.items() if k not in ("history", "sealed")} != register_document(
            sealed["document"]
        ):
            r.problems.append(
                f"{label}: the register differs from its sealed version (state or fields edited)"
            )
        for step in nc["history"]:
            entry = spine.get(step["run_id"])
            steps = registers.get(str(step["run_id"]), {}).get("transitions", [])
            if (
                entry is None
                or _transition(step, entry["identity"]["uid"]) != step["hash"]
                or step["hash"] not in steps
            ):
                r.problems.append(
                    f"{label}: history step {step['id']} is not sealed (edited, inserted or reordered)"
                )


def check_attestations(
    docs: list[dict[str, Any]],
    registers: dict[str, dict[str, list[Any]]],
    spine: dict[int, dict[str, Any]],
    digests: dict[str, str],
    r: Report,
) -> None:
    for doc in docs:
        rec = doc["record"]
        label = f"attestations.json: attestation {rec['id']} ({rec['control_id']})"
        entry = spine.get(rec["run_id"])
        listed = registers.get(str(rec["run_id"]), {}).get("attestations", [])
        if (
            entry is None
            or attestation_hash(rec, entry["identity"]["uid"]) != rec["hash"]
            or rec["hash"] not in listed
        ):
            r.problems.append(f"{label}: not sealed (edited or inserted)")
        path = doc["path"]
        if path != f"attachments/{rec['attachment']}" or doc["sha256"] != rec["attachment"]:
            r.problems.append(f"{label}: points at {path}, not at the file it vouches for")
        elif digests.get(path) != rec["attachment"]:
            r.problems.append(f"{path}: content does not match its name (file swapped)")
