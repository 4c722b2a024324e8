"""Sending messages to the enabled channels, each with retries and back-off.

The one place that retries: a channel raises Undelivered saying whether to try again, and this
loop waits (the receiver's Retry-After, else the configured back-off doubled each time, never
more than `max_backoff`), counts the outcome and logs a failure by channel and event, without
URLs or secrets. Nothing here raises: a notification never fails the run it is about.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from importlib import import_module

from agent.integrations.hooks import Count
from agent.integrations.settings import ChannelSettings, NotifySettings
from agent.logs import get_logger
from agent.notify.delivery import Send, Undelivered
from agent.notify.message import Message

log = get_logger()


def dispatch(messages: Sequence[Message], notify: NotifySettings, count: Count | None) -> None:
    """Every message to every enabled channel whose `events` include its kind."""
    for name, section in notify.channels().items():
        wanted = [m for m in messages if m.event in section.events]
        if not wanted:
            continue
        send = _implementation(name, section)
        for m in wanted:
            sent = send is not None and _deliver(name, send, section, m, notify)
            if count is not None:
                count(name, "sent" if sent else "failed")


def _implementation(name: str, section: ChannelSettings) -> Send | None:
    module, _, attribute = section.implementation.partition(":")
    try:
        send: Send = getattr(import_module(module), attribute)
    except Exception as exc:  # a broken plugin is that channel's failure, not the others'
        log.error("notify_channel_unavailable", channel=name, error=type(exc).__name__)
        return None
    return send


def _deliver(
    name: str, send: Send, section: ChannelSettings, message: Message, notify: NotifySettings
) -> bool:
    """True once an attempt succeeds; False after the last attempt, or the first not worth repeating."""
    timeout = notify.timeout.total_seconds()
    said = log.bind(channel=name, kind=message.event.value, run=message.run_id)
    for attempt in range(1, notify.attempts + 1):
        try:
            send(message, section, timeout)
        except Undelivered as exc:
            failure, retryable, asked = str(exc), exc.retryable, exc.retry_after
        except Exception as exc:  # a channel's bug: its text may carry a URL, so only its type is told
            failure, retryable, asked = f"unexpected {type(exc).__name__}", False, None
        else:
            said.info("notification_sent", attempts=attempt)
            return True
        if not retryable or attempt == notify.attempts:
            said.error("notification_failed", attempts=attempt, error=failure)
            return False
        wait = _wait(attempt, asked, notify)
        said.warning("notification_retry", attempt=attempt, error=failure, wait_seconds=wait)
        time.sleep(wait)
    return False


def _wait(attempt: int, asked: float | None, notify: NotifySettings) -> float:
    """Seconds before attempt `attempt + 1`: what the receiver asked for, else the back-off doubled
    per attempt so far; never more than max_backoff."""
    if asked is None:
        asked = notify.backoff.total_seconds() * 2 ** (attempt - 1)
    return min(asked, notify.max_backoff.total_seconds())
