"""The small pieces of markup every page repeats, as functions: a template macro costs a call
through Jinja's runtime each time, and a control's page shows thousands of them."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from markupsafe import Markup


def chip(value: Any) -> Markup:
    """A state, status or severity as a coloured label (its class is the value itself)."""
    text = str(value)
    return Markup('<span class="chip {}">{}</span>').format(text, text.replace("_", " "))


def when(moment: Any) -> Markup:
    """An ISO 8601 moment to the minute, with the exact one kept in the element."""
    if not moment:
        return Markup("-")
    text = str(moment)
    return Markup('<time datetime="{}">{}</time>').format(text, text[:16].replace("T", " "))


def asof_q(as_of: str, first: bool = True) -> Markup:
    """The as-of query parameter to carry over to a link, if one is set."""
    if not as_of:
        return Markup("")
    return Markup("{}as_of={}").format("?" if first else "&", quote(as_of, safe=""))


GLOBALS = {"chip": chip, "when": when, "asof_q": asof_q}
