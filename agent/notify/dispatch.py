"""Sending messages to the enabled channels, each with retries and back-off.

A channel raises Undelivered saying whether to try again; agent/integrations/retry.py waits (the
receiver's Retry-After, else the configured back-off doubled each time; a longer wait than
`max_backoff` is not waited), and this counts the outcome and logs a failure by channel and event,
without URLs or secrets. Nothing here raises: a notification never fails the run it is about.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module

from agent.integrations.hooks import Count
from agent.integrations.retry import Backoff, retried
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
    attempts = 0

    def attempt() -> None:
        nonlocal attempts
        attempts += 1
        send(message, section, timeout)

    def retrying(n: int, exc: Undelivered, wait: float) -> None:
        said.warning("notification_retry", attempt=n, error=str(exc), wait_seconds=wait)

    try:
        retried(Backoff.of(notify), attempt, Undelivered, retrying)
    except Undelivered as exc:
        said.error("notification_failed", attempts=attempts, error=str(exc))
        return False
    except Exception as exc:  # a channel's bug: its text may carry a URL, so only its type is told
        said.error("notification_failed", attempts=attempts, error=f"unexpected {type(exc).__name__}")
        return False
    said.info("notification_sent", attempts=attempts)
    return True
