"""The read-only view of evidence a check judges.

A check sees the records of the sources it needs that belong to its scope: the same scope,
its ancestors (`aws:1` for `aws:1:eu-west-1`) and descendants, and every scope of sources
from another system (HR records are joined to every AWS account). Which observations are
usable — fresh, successful — is decided before the check runs, never by the check.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from agent.canonical import sha256_hex
from agent.plugin.model import Record

T = TypeVar("T")


class UnknownSource(KeyError):
    """A check read a source it did not declare in `needs`: a bug in the check."""


@dataclass(frozen=True)
class Evidence:
    scope: str
    now: datetime
    sources: Mapping[str, list[Record]]
    params: Mapping[str, Any] = field(default_factory=dict)
    shared: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)
    # What is not known of the check's context sources: one line each (failed, stale, missing).
    gaps: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        scope: str,
        records: Mapping[str, Iterable[Record]],
        *,
        now: datetime | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Evidence:
        """Build a view by hand (tests, scenarios), filling source, scope and hash on each record."""
        from agent.canonical import content_hash

        filled = {
            source: [
                Record(r.resource_id, r.data, source, r.scope or scope, r.hash or content_hash(r.data))
                for r in recs
            ]
            for source, recs in records.items()
        }
        return cls(scope=scope, now=now or datetime.now(UTC), sources=filled, params=dict(params or {}))

    def records(self, source: str) -> list[Record]:
        try:
            return self.sources[source]
        except KeyError:
            raise UnknownSource(f"source {source!r} is not among the check's needs") from None

    def one(self, source: str) -> Record | None:
        """The single record of a per-scope source (an account summary, a password policy)."""
        recs = self.records(source)
        return recs[0] if recs else None

    def index(self, source: str, key: Callable[[Record], Hashable | None]) -> dict[Hashable, Record]:
        """Hash-join helper: records keyed by `key` (None keys are left out)."""
        out: dict[Hashable, Record] = {}
        for rec in self.records(source):
            k = key(rec)
            if k is not None:
                out[k] = rec
        return out

    def memo(self, key: Hashable, build: Callable[[], T]) -> T:
        """What `build` returns, built once for every view sharing this one's `shared` cache.

        For work several checks repeat on the same evidence (the HR directory people checks
        link accounts to): the evaluator gives all the views of one evaluation the same cache,
        so `key` must name everything the result depends on, e.g. the `fingerprint` of the records.
        """
        if key not in self.shared:
            self.shared[key] = build()
        return cast(T, self.shared[key])

    def fingerprint(self, source: str) -> str:
        """A digest of the scopes, ids and hashes of `source`'s records here: how a `memo` key names
        them. Computed once per list of records, however many views and keys share it (the cache
        holds the list, so its id is not reused while the digest is kept)."""
        records = self.records(source)

        def digest() -> tuple[list[Record], str]:
            named = [field for r in records for field in (r.scope, r.resource_id, r.hash)]
            return records, sha256_hex(json.dumps(named))

        return self.memo(("evidence.fingerprint", id(records)), digest)[1]

    def param(self, name: str) -> Any:
        return self.params[name]
