"""Every hash the store commits to, in one place, so a verifier recomputes exactly what was sealed.

Each function takes plain JSON-able values (as a bundle holds them) and returns a SHA-256 hex digest.

A chain entry (a run, or a person's NC action, attestation or bundle review) is sealed as
    seal  = {format, run, observations, checks, ncs, transitions, attestations[, reviews]}   (digests)
    root  = H({"prev": previous root, "body": H(seal)})
so the spine of roots can be re-derived from the seals alone, without the evidence, and a bundle
can prove that its chain extends an older one. The root is signed with the agent's key.
`reviews` is present only in an entry that wrote reviews: a seal without it commits to none, so
seals made before reviews existed re-derive unchanged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from itertools import islice
from typing import Any

from agent.canonical import canonical_json, content_hash

GENESIS = "0" * 64
SEAL_FORMAT = 2
COUNTS = ("passed", "failed", "errored", "not_applicable")
HASHED_TOGETHER = 1_000  # result rows canonicalised at once


class TreeHasher:
    """An observation's content hash, fed one (resource id, blob hash) pair at a time in sorted order.

    Equal to `content_hash` of the sorted list of pairs, without holding the list: a verifier can
    stream a million-record listing.
    """

    def __init__(self) -> None:
        self._sha = hashlib.sha256(b"[")
        self._last: str | None = None
        self.count = 0

    def add(self, resource_id: str, blob: str) -> None:
        if self._last is not None and resource_id <= self._last:
            raise ValueError(f"resource ids out of order or repeated at {resource_id!r}")
        self._sha.update((b"," if self.count else b"") + canonical_json([resource_id, blob]).encode())
        self._last = resource_id
        self.count += 1

    def hexdigest(self) -> str:
        sha = self._sha.copy()
        sha.update(b"]")
        return sha.hexdigest()


def tree_hash(entries: Iterable[tuple[str, str]]) -> str:
    """An observation's content: its sorted (resource id, blob hash) pairs."""
    hasher = TreeHasher()
    for rid, blob in sorted(entries):
        hasher.add(rid, blob)
    return hasher.hexdigest()


# Each sealed row's hash: the run it belongs to plus these columns, under these names (the names are
# the hashed format; changing one changes every hash).
_OBSERVATION = {
    "source": "source", "scope": "scope", "status": "status", "error": "error", "tree": "tree_hash",
    "count": "record_count", "started_at": "started_at", "collected_at": "collected_at",
    "agent_version": "agent_version",
}  # fmt: skip
_TRANSITION = {
    "id": "id", "nc": "nc_id", "at": "at", "actor": "actor", "from": "from_state", "to": "to_state",
    "reason": "reason",
}  # fmt: skip
_RESULT = ("resource_id", "status", "reason", "evidence")
_ATTESTATION = {
    "id": "id", "control": "control_id", "attachment": "attachment", "filename": "filename", "note": "note",
    "actor": "actor", "at": "at", "expires_at": "expires_at",
}  # fmt: skip
_REVIEW = {
    "id": "id", "bundle": "bundle_digest", "head": "bundle_head", "exporter": "exporter",
    "decision": "decision", "actor": "actor", "note": "note", "at": "at",
}  # fmt: skip


def _row_hash(row: Mapping[str, Any], run_uid: str, columns: Mapping[str, str]) -> str:
    return content_hash({"run": run_uid, **{name: row[column] for name, column in columns.items()}})


def observation_hash(obs: Mapping[str, Any], run_uid: str) -> str:
    return _row_hash(obs, run_uid, _OBSERVATION)


def result_set_hash(rows: Iterable[Mapping[str, Any]]) -> str:
    """Rows sorted by resource id, each with resource_id, status, reason and evidence: `content_hash`
    of their list, canonicalised a batch at a time (a check can judge tens of thousands of resources)."""
    items = ({field: r[field] for field in _RESULT} for r in rows)
    sha = hashlib.sha256(b"[")
    joint = b""
    while batch := list(islice(items, HASHED_TOGETHER)):
        sha.update(joint + canonical_json(batch)[1:-1].encode())  # the batch's items, without brackets
        joint = b","
    sha.update(b"]")
    return sha.hexdigest()


def check_run_hash(run_uid: str, cr: Mapping[str, Any]) -> str:
    """One evaluation: which check, where, when, its outcome and counts, and its result set."""
    return content_hash(
        {
            "run": run_uid,
            "check": cr["check_id"],
            "scope": cr["scope"],
            "at": cr["evaluated_at"],
            "outcome": cr["outcome"],
            "counts": {k: cr[k] for k in COUNTS},
            "results": cr["result_set"],
        }
    )


def nc_hash(document: Mapping[str, Any]) -> str:
    """One version of a nonconformity: every field of the register (see nonconformity.nc_record)."""
    return content_hash(document)


def transition_hash(t: Mapping[str, Any], run_uid: str) -> str:
    """One step of an NC's history; its id fixes its place, so reordering rows shows."""
    return _row_hash(t, run_uid, _TRANSITION)


def attestation_hash(a: Mapping[str, Any], run_uid: str) -> str:
    return _row_hash(a, run_uid, _ATTESTATION)


def review_hash(review: Mapping[str, Any], run_uid: str) -> str:
    """A sign-off: which bundle (manifest digest and chain head), who exported it, who decided what."""
    return _row_hash(review, run_uid, _REVIEW)


NO_REVIEWS = content_hash([])  # what a seal without a `reviews` part commits to


def reviews_part(seal: Mapping[str, Any]) -> Any:
    """The digest of the reviews a seal commits to (none, when it has no such part)."""
    return seal.get("reviews", NO_REVIEWS)


def run_identity(run: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "uid": run["uid"],
        "kind": run["kind"],
        "status": run["status"],
        "started_at": run["started_at"],
        "finished_at": run["finished_at"],
        "error": run["error"],
    }


def seal_of(
    run: Mapping[str, Any],
    *,
    observations: Iterable[str],
    checks: Iterable[str],
    ncs: Iterable[Sequence[Any]],
    transitions: Iterable[str],
    attestations: Iterable[str],
    reviews: Iterable[str] = (),
) -> dict[str, Any]:
    """The digests a root commits to; each part is named so a verifier can say which one is off."""
    reviewed = sorted(reviews)
    return {
        "format": SEAL_FORMAT,
        "run": content_hash(run_identity(run)),
        "observations": content_hash(sorted(observations)),
        "checks": content_hash(sorted(checks)),
        "ncs": content_hash(sorted([list(v) for v in ncs])),
        "transitions": content_hash(sorted(transitions)),
        "attestations": content_hash(sorted(attestations)),
        **({"reviews": content_hash(reviewed)} if reviewed else {}),
    }


SEAL_PARTS = ("run", "observations", "checks", "ncs", "transitions", "attestations")


def root_of(prev: str, seal: Mapping[str, Any]) -> str:
    return content_hash({"prev": prev, "body": content_hash(dict(seal))})


def seal_message(root: str) -> bytes:
    """What the agent's key signs: the root, domain-separated from anything else it might sign."""
    return b"annexa-seal/2 " + root.encode()
