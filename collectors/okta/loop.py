"""An asyncio event loop on a daemon thread of its own, for a synchronous caller of an async SDK.

The okta SDK is async (aiohttp) while collectors are synchronous generators run on the runner's
threads. One loop per org, owned by its `OktaApi`, serves every collector of that org: their
requests share one connection pool, one OAuth token and one cap on requests in flight, whichever
thread asked. The loop ends when its owner is garbage-collected (the run is over).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class EventLoop:
    def __init__(self, name: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._ending: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        """Start `coro` on the loop; its result (or exception) arrives in the returned future."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """`coro`'s result, waited for on the calling thread."""
        return self.submit(coro).result()

    def stop(self, cleanup: Callable[[], Awaitable[None]]) -> None:
        """Run `cleanup` on the loop, then end it. Safe from any thread, the loop's own included,
        and never waits (it may be called by the garbage collector)."""

        async def end() -> None:
            try:
                await cleanup()
            finally:
                self._loop.stop()

        def start() -> None:
            self._ending = self._loop.create_task(end())  # held: the loop keeps only weak references

        with contextlib.suppress(RuntimeError):  # already closed
            self._loop.call_soon_threadsafe(start)
