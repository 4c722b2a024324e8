"""Evidence scopes: `<system>:<target>[:<part>...]`, e.g. `aws:123456789012:eu-west-1`.

The first two parts name the target (an account, organisation, tenant, HR system) that leases
and shards are about. A bare system name (`aws`) is where a failure to find the targets at all
is recorded; a target's own scope can likewise stand in for its parts when they could not be
listed (`aws:123456789012` for an account whose regions are unknown).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

T = TypeVar("T")


def target_key(scope: str) -> str:
    """`aws:123456789012` for any scope inside that account; a bare system name stays as it is."""
    return ":".join(scope.split(":", 2)[:2])


def is_bare(scope: str) -> bool:
    return ":" not in scope


def without_superseded(items: Sequence[T], scope: Callable[[T], str], at: Callable[[T], datetime]) -> list[T]:
    """Drop a stand-in scope once anything more specific inside it is newer.

    A failed target or region listing leaves evidence (and results) at the broader scope; when a
    later run lists the parts, they replace it instead of leaving a permanent error beside them.
    """
    ordered = sorted(items, key=scope)
    keys = [scope(i) for i in ordered]
    kept = []
    for n, item in enumerate(ordered):
        name = keys[n]
        lo = bisect_left(keys, name + ":")
        hi = bisect_left(keys, name + ";")  # ';' follows ':' in code-point order
        if not any(at(inner) > at(item) for inner in ordered[lo:hi]):
            kept.append(item)
    return kept
