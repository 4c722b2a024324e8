"""A message as Slack blocks, through slack-sdk: `chat.postMessage` with a bot token, or an
incoming webhook. Either way the SDK does not retry (agent/notify/dispatch.py does) and does not
log: its debug lines carry the webhook URL and the token."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from agent.notify.delivery import Undelivered, refused, retry_after, secret
from agent.notify.message import Item, Message
from integrations.slack.settings import SlackSettings

_SDK_LOG = logging.getLogger(f"{__name__}.sdk")
_SDK_LOG.disabled = True
_TEXT_LIMIT = 3000  # a section block's text
_FIELD_LIMIT = 500  # one collected string within it
# Errors Slack's Web API answers (with HTTP 200) that a later attempt may not meet.
_TRANSIENT = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}


def escape(text: str) -> str:
    """Text from collected systems shown as itself in mrkdwn (Slack's control characters)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _data(text: str) -> str:
    clipped = text if len(text) <= _FIELD_LIMIT else text[: _FIELD_LIMIT - 1] + "…"
    return escape(clipped)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:_TEXT_LIMIT]}}


def _item(item: Item) -> dict[str, Any]:
    severity = f" · {_data(item.severity)}" if item.severity else ""
    return _section(f"*<{item.link}|{_data(item.ref)}>*{severity}\n{_data(item.title)}\n{_data(item.scope)}")


def blocks(message: Message) -> list[dict[str, Any]]:
    out = [
        _section(f"*{_data(message.title)}*\n{_data(message.summary)}\n<{message.link}|Open in Annexa>"),
        {"type": "divider"},
        *(_item(item) for item in message.items),
    ]
    if message.more:
        out.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"… and {message.more} more"}]}
        )
    return out


def send(message: Message, section: SlackSettings, timeout: float) -> None:
    seconds = max(1, round(timeout))
    text = f"{_data(message.title)}: {message.link}"  # what notifications and old clients show
    if section.webhook_url_env:
        url = secret("Slack webhook URL", env=section.webhook_url_env, key="notify.slack.webhook_url_env")
        client = WebhookClient(url, timeout=seconds, logger=_SDK_LOG, retry_handlers=[])
        _post(lambda: _webhook_answer(client.send(text=text, blocks=blocks(message), unfurl_links=False)))
        return
    token = secret("Slack bot token", env=section.token_env, key="notify.slack.token_env")
    if not section.channel:
        raise Undelivered("notify.slack: no channel to post to", retryable=False)
    api = WebClient(
        token=token, base_url=section.api_url, timeout=seconds, logger=_SDK_LOG, retry_handlers=[]
    )
    _post(
        lambda: api.chat_postMessage(
            channel=section.channel, text=text, blocks=blocks(message), unfurl_links=False
        )
    )


def _webhook_answer(response: Any) -> None:
    if response.status_code != 200 or response.body != "ok":
        raise refused(response.status_code, response.headers or {}, "the Slack webhook")


def _post(call: Callable[[], object]) -> None:
    """Run one SDK call, its failures told by what Slack answered, never by the SDK's text (which
    names the URL)."""
    try:
        call()
    except SlackApiError as exc:
        answer = exc.response
        error = str(answer.get("error", "")) if isinstance(answer.data, dict) else ""
        if answer.status_code != 200:
            raise refused(answer.status_code, answer.headers, "Slack") from None
        raise Undelivered(f"Slack answered {error or 'not ok'}", retryable=error in _TRANSIENT,
                          retry_after=retry_after(answer.headers)) from None  # fmt: skip
    except (OSError, SlackClientError) as exc:  # unreachable, timed out, or refused by the SDK itself
        raise Undelivered(
            f"Slack unreachable ({type(exc).__name__})", retryable=isinstance(exc, OSError)
        ) from None
