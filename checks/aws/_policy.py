"""Reading IAM policy documents, whose JSON allows a dict or a list almost everywhere."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Both spellings IAM accepts for "every action of every service".
ALL_ACTIONS = frozenset({"*", "*:*"})


def as_list(value: Any) -> list[Any]:
    """IAM writes a single element bare and several as a list; this reads both the same way."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def statements(document: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The statements of a policy document, whether `Statement` is one object or a list."""
    return [s for s in as_list((document or {}).get("Statement")) if isinstance(s, Mapping)]


def allows_everything(document: Mapping[str, Any] | None) -> bool:
    """True when some statement Allows every action on every resource, i.e. full administrator.

    Conditions are ignored on purpose: a conditional `*:*` is still administrator access for
    whoever meets the condition, so flagging it errs on the side an auditor expects.
    """
    return any(
        s.get("Effect") == "Allow"
        and not ALL_ACTIONS.isdisjoint(as_list(s.get("Action")))
        and "*" in as_list(s.get("Resource"))
        for s in statements(document)
    )
