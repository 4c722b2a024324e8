"""Bounded, order-preserving fan-out for collectors that need one call per listed resource."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def ordered_map(items: Iterable[T], fn: Callable[[T], R], workers: int, name: str = "fan-out") -> Iterator[R]:
    """`fn` over `items` on at most `workers` threads, results in input order.

    Items are pulled lazily and at most `2 * workers` results wait in memory, so a listing of
    any length streams. An exception from `fn` is raised when its result is reached.
    """
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
    window: deque[Future[R]] = deque()
    try:
        for item in items:
            window.append(pool.submit(fn, item))
            if len(window) >= 2 * workers:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
