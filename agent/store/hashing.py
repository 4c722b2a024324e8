"""Every hash the store commits to, in one place, so a verifier recomputes exactly what was sealed.

Each function takes plain JSON-able values (as a bundle holds them) and returns a SHA-256 hex digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from agent.canonical import canonical_json, content_hash

GENESIS = "0" * 64


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


def observation_hash(obs: Mapping[str, Any], run_uid: str) -> str:
    return content_hash(
        {
            "run": run_uid,
            "source": obs["source"],
            "scope": obs["scope"],
            "status": obs["status"],
            "error": obs["error"],
            "tree": obs["tree_hash"],
            "count": obs["record_count"],
            "started_at": obs["started_at"],
            "collected_at": obs["collected_at"],
            "agent_version": obs["agent_version"],
        }
    )


def result_set_hash(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows sorted by resource id, each with resource_id, status, reason and evidence."""
    return content_hash(
        [
            {
                "resource_id": r["resource_id"],
                "status": r["status"],
                "reason": r["reason"],
                "evidence": r["evidence"],
            }
            for r in rows
        ]
    )


def check_run_hash(run_uid: str, check_id: str, scope: str, evaluated_at: Any, result_set: str) -> str:
    return content_hash(
        {"run": run_uid, "check": check_id, "scope": scope, "at": evaluated_at, "results": result_set}
    )


def run_root(run: Mapping[str, Any], prev: str, observations: Iterable[str], checks: Iterable[str]) -> str:
    """What a run commits to: its identity, outcome, every observation and every check run."""
    return content_hash(
        {
            "prev": prev,
            "run": run["uid"],
            "kind": run["kind"],
            "status": run["status"],
            "started_at": run["started_at"],
            "finished_at": run["finished_at"],
            "observations": sorted(observations),
            "checks": sorted(checks),
        }
    )
