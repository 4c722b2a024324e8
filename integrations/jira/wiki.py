"""An NC's issue and comments in Jira's wiki markup (what REST API v2 renders, Cloud and Data Center).

Everything that came from a collected system or a person (titles, scopes, resource ids, notes,
names) is data: it goes inside {noformat} blocks, where Jira interprets nothing but the block's
end, and a `{noformat` inside the data is broken with a zero-width space so it cannot end the
block. Only Annexa's own link is markup.
"""

from __future__ import annotations

import re
from datetime import datetime

from agent.tickets.model import NcSummary, Note

MAX_RESOURCES = 50
MAX_SUMMARY = 255  # Jira refuses a longer summary
_BLOCK_END = re.compile(r"\{(?=noformat)", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def _data(text: str) -> str:
    return _BLOCK_END.sub("{\u200b", text)


def _block(lines: list[str]) -> str:
    return "{noformat}\n" + "\n".join(_data(line) for line in lines) + "\n{noformat}"


def _link(ref: str, url: str) -> str:
    return f"[Open {ref} in Annexa|{url}]"


def _when(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def summary(nc: NcSummary) -> str:
    """The issue's one-line summary (plain text: Jira renders no markup there)."""
    line = _SPACES.sub(" ", f"{nc.ref}: {nc.title} ({nc.scope})").strip()
    return line if len(line) <= MAX_SUMMARY else line[: MAX_SUMMARY - 1] + "\u2026"


def description(nc: NcSummary) -> str:
    shown = nc.failing_resources[:MAX_RESOURCES]
    more = len(nc.failing_resources) - len(shown)
    lines = [
        f"Nonconformity: {nc.ref}",
        f"Check: {nc.check_id}",
        f"Title: {nc.title}",
        f"Annex A controls: {', '.join(nc.controls)}",
        f"Severity: {nc.severity}",
        f"State: {nc.state}",
        f"Scope: {nc.scope}",
        f"First seen: {_when(nc.first_seen)}",
        f"Last seen: {_when(nc.last_seen)}",
        f"Failing resources ({len(nc.failing_resources)}):",
        *(f"- {resource}" for resource in shown),
        *([f"... and {more} more (listed in Annexa)"] if more else []),
    ]
    intro = "Annexa recorded this nonconformity; it is closed in Annexa, after verification."
    return f"{intro} {_link(nc.ref, nc.link)}\n\n{_block([_SPACES.sub(' ', line) for line in lines])}"


def comment(note: Note) -> str:
    return f"{_block([note.headline, *note.text.splitlines()])}\n{_link(note.ref, note.link)}"
