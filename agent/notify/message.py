"""The channel-neutral message: what happened, to what, and where to look in the dashboard.

Every channel renders the same `Message`, so a Slack post, a Teams card, an e-mail and a webhook
body always agree. Item texts come from collected systems and people: they are data, and each
channel escapes them for its own format.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from agent.integrations.settings import EventKind

MAX_ITEMS = 20  # a message lists the first ones and says how many more there are


@dataclass(frozen=True)
class Item:
    """One NC or one source's evidence the message is about."""

    ref: str  # NC-0007, or a source such as aws.iam.users
    title: str  # the check's title, or what is wrong with the evidence
    scope: str
    link: str
    severity: str = ""

    def document(self) -> dict[str, Any]:
        return {"ref": self.ref, "title": self.title, "scope": self.scope, "severity": self.severity,
                "link": self.link}  # fmt: skip

    def line(self) -> str:
        """The item as one line of plain text."""
        severity = f" [{self.severity}]" if self.severity else ""
        return f"{self.ref}{severity} {self.title} ({self.scope})"


@dataclass(frozen=True)
class Message:
    """One event of one run (or of one person's action): never one message per resource."""

    event: EventKind
    run_id: int
    delivery: str  # unique per run and event; the same across retries, so receivers can deduplicate
    title: str
    summary: str
    link: str
    items: tuple[Item, ...] = ()
    total: int = 0  # how many items the event concerns; only the first MAX_ITEMS are listed

    @property
    def more(self) -> int:
        return self.total - len(self.items)

    def document(self) -> dict[str, Any]:
        """The message as JSON for machines (the webhook's body)."""
        return {
            "event": self.event.value,
            "run": self.run_id,
            "delivery": self.delivery,
            "title": self.title,
            "summary": self.summary,
            "link": self.link,
            "total": self.total,
            "items": [item.document() for item in self.items],
            "more": self.more,
        }

    def text(self) -> str:
        """The message as plain text (an e-mail body, a chat client's fallback text)."""
        lines = [self.title, "", self.summary]
        if self.items:
            lines += ["", *(f"- {item.line()}\n  {item.link}" for item in self.items)]
        if self.more:
            lines.append(f"... and {self.more} more")
        return "\n".join([*lines, "", f"Open in Annexa: {self.link}", ""])


def message(
    event: EventKind, run_id: int, delivery: str, title: str, summary: str, link: str, items: list[Item]
) -> Message:
    """A message listing the first MAX_ITEMS of `items` and counting them all."""
    return Message(event, run_id, delivery, title, summary, link, tuple(items[:MAX_ITEMS]), len(items))


class Links:
    """Addresses of the dashboard's pages, under `[web] public_url` (or its host and port)."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    def nc(self, ref: str) -> str:
        return f"{self.base}/ncs/{quote(ref, safe='')}"

    def ncs(self, state: str) -> str:
        return f"{self.base}/ncs?{urlencode({'state': state})}"

    def run(self, run_id: int) -> str:
        return f"{self.base}/runs/{run_id}"

    def evidence(self) -> str:
        return f"{self.base}/evidence"


def plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"
