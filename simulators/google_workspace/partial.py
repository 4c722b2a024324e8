"""Google's partial responses: the `fields` parameter's syntax (`a,b/c,d(e,f(g))`) and what it selects."""

from __future__ import annotations

import re
from typing import Any

Mask = dict[str, "Mask | None"]  # a parsed `fields`: a name with its own selection, or None (all of it)


def parse_fields(text: str) -> Mask:
    """Google's partial-response syntax: `a,b/c,d(e,f(g))`."""
    mask, end = _selection(text, 0)
    if end != len(text):
        raise ValueError(text[end:])
    return mask


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*")


def _selection(text: str, at: int) -> tuple[Mask, int]:
    mask: Mask = {}
    while True:
        name = _NAME.match(text, at)
        if name is None:
            raise ValueError(text[at:] or text)
        at, sub = name.end(), None
        if text.startswith("(", at):
            sub, at = _selection(text, at + 1)
            if not text.startswith(")", at):
                raise ValueError(text)
            at += 1
        *parents, last = name.group().split("/")
        node = mask
        for parent in parents:
            node = node.setdefault(parent, {}) or {}
        node[last] = sub
        if not text.startswith(",", at):
            return mask, at
        at += 1


def select(value: Any, mask: Mask | None) -> Any:
    """`value` with only what `mask` names (each element of a list alike)."""
    if mask is None:
        return value
    if isinstance(value, list):
        return [select(v, mask) for v in value]
    if not isinstance(value, dict):
        return value
    return {k: select(value[k], sub) for k, sub in mask.items() if k in value}
