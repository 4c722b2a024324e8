"""The okta SDK's request plumbing, configured rather than reimplemented.

- Rate limits are the SDK's own retry (`RequestExecutor.fire_request_helper`): a 429 waits until
  `X-Rate-Limit-Reset`, measured against the answer's `Date` header (not the local clock), plus
  one second. Here that wait is capped by `[okta] max_retry_wait` (a longer one fails the call
  with `RateLimitWait`, saying why) and slept through `time.sleep` off the event loop, so tests
  replace this module's `time` with a fake clock and nothing sleeps for real.
- The SDK retries 503/504 at once, without back-off, and fails them outright when they lack the
  rate-limit headers: here only 429 is the SDK's to retry; `OktaApi` retries 5xx with back-off.
- The SDK's `requestTimeout` also caps a request's total time *including* rate-limit waits; it
  stays off and `TimedHttpClient` bounds each HTTP exchange instead.
"""

from __future__ import annotations

import asyncio
import time
from http import HTTPStatus
from typing import Any

import aiohttp
from okta.http_client import HTTPClient
from okta.request_executor import RequestExecutor

from agent.logs import get_logger
from collectors.errors import Failure, adapter

log = get_logger()


class RateLimitWait(Exception):
    """A 429 whose reset is further away than `[okta] max_retry_wait`."""

    def __init__(self, wait: float, cap: float) -> None:
        super().__init__(
            f"the rate limit resets in {wait:.0f} s, more than [okta] max_retry_wait ({cap:.0f} s)"
        )
        self.wait = wait


@adapter(RateLimitWait)
def _rate_limit_wait(exc: RateLimitWait) -> Failure:
    return Failure("refused", 429, "E0000047", str(exc))


async def pause(seconds: float) -> None:
    """Wait `seconds` without holding up the event loop's other requests."""
    await asyncio.to_thread(time.sleep, max(0.0, seconds))


class Executor(RequestExecutor):
    """The SDK's executor with the rate-limit wait capped and sleeping through `pause`."""

    def __init__(
        self, config: dict[str, Any], cache: Any, http_client: Any = None, *, max_wait: float
    ) -> None:
        super().__init__(config, cache, http_client)  # type: ignore[no-untyped-call]
        self.max_wait = max_wait

    def is_retryable_status(self, status: int | None) -> bool:
        return status == HTTPStatus.TOO_MANY_REQUESTS

    async def pause_for_backoff(self, backoff_time: float) -> None:
        if backoff_time > self.max_wait:
            raise RateLimitWait(backoff_time, self.max_wait)
        log.info("okta.rate_limited", wait=backoff_time)
        await pause(backoff_time)


class TimedHttpClient(HTTPClient):
    """The SDK's HTTP client with each exchange bounded by `[okta] timeout`."""

    def __init__(self, http_config: dict[str, Any], *, timeout: float) -> None:
        super().__init__(http_config)  # type: ignore[no-untyped-call]
        self._timeout = aiohttp.ClientTimeout(total=timeout)
