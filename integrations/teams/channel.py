"""A message as an Adaptive Card, posted to a Teams Workflows webhook (which answers 202)."""

from __future__ import annotations

import json
import re
from typing import Any

from agent.notify.delivery import post_json, secret
from agent.notify.message import Item, Message
from integrations.teams.settings import TeamsSettings

# Characters a TextBlock's markdown gives a meaning to anywhere (emphasis, links, code), and what
# makes a line a list item, a heading or a quote.
_INLINE = re.compile(r"([\\`*_~\[\]()])")
_LINE_START = re.compile(r"^(?:([-+#>])|(\d+)\.)")


def escape(text: str) -> str:
    """Collected text shown as itself in a TextBlock, on one line, its markdown backslash-escaped."""
    one_line = _INLINE.sub(r"\\\1", " ".join(text.split()))
    return _LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\.", one_line)


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _item(item: Item) -> dict[str, Any]:
    severity = f" · {escape(item.severity)}" if item.severity else ""
    return {
        "type": "Container",
        "separator": True,
        "items": [
            _text(f"**[{escape(item.ref)}]({item.link})**{severity} {escape(item.title)}"),
            _text(escape(item.scope), isSubtle=True, spacing="None"),
        ],
    }


def card(message: Message) -> dict[str, Any]:
    """The Workflows message: one Adaptive Card attachment, with a button into the dashboard."""
    body = [
        _text(escape(message.title), size="Medium", weight="Bolder", style="heading"),
        _text(escape(message.summary)),
        *(_item(item) for item in message.items),
    ]
    if message.more:
        body.append(_text(f"… and {message.more} more", isSubtle=True))
    content = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": [{"type": "Action.OpenUrl", "title": "Open in Annexa", "url": message.link}],
    }
    attachment = {
        "contentType": "application/vnd.microsoft.card.adaptive",
        "contentUrl": None,
        "content": content,
    }
    return {"type": "message", "attachments": [attachment]}


def send(message: Message, section: TeamsSettings, timeout: float) -> None:
    url = secret("Teams webhook URL", env=section.webhook_url_env, key="notify.teams.webhook_url_env")
    body = json.dumps(card(message), ensure_ascii=False).encode()
    post_json(url, body, {"User-Agent": "Annexa"}, timeout, "the Teams webhook")
