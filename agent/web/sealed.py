"""What pages read from sealed data, kept until the chain moves on.

Sealed entries never change, and every change to what a page shows (a run, an NC action, an
attestation) is a new entry with a new chain head; so a page's reading of the registers is kept per
head and read again once the head moves. Each reading is still the product's own (only validly
sealed, signed entries count); fifty people on the overview cost one reading, not fifty. What
depends on the clock (evidence ages) is computed per request from what is kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from agent.store import Store
from agent.store.chain import chain_head

T = TypeVar("T")


# Set inside `Sealed.request()`: the chain head as this request first read it, by store.
_heads: ContextVar[dict[int, str] | None] = ContextVar("_heads", default=None)


class Sealed:
    @staticmethod
    @contextmanager
    def request() -> Iterator[None]:
        """One request: every reading in it is of the chain head it saw first."""
        token = _heads.set({})
        try:
            yield
        finally:
            _heads.reset(token)

    def __init__(self) -> None:
        self._head: str | None = None
        self._kept: dict[Hashable, Any] = {}
        self._lock = threading.Lock()

    def read(self, store: Store, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()`'s value, kept for `key` while the chain head stays where it is now."""
        head = _head(store)
        with self._lock:
            if head != self._head:
                self._head, self._kept = head, {}
            if key in self._kept:
                kept: T = self._kept[key]
                return kept
        value = compute()
        with self._lock:
            if self._head == head:
                self._kept[key] = value
        return value


def _head(store: Store) -> str:
    seen = _heads.get()
    head = seen.get(id(store)) if seen is not None else None
    if head is None:
        with store.read() as s:
            head = chain_head(s)
        if seen is not None:
            seen[id(store)] = head
    return head
