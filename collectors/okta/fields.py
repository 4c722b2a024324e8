"""Reading Okta's JSON into records: a field the checks rely on that is missing or of the wrong type
fails the listing (`InputDataError`), rather than becoming a record that says something else."""

from __future__ import annotations

from typing import Any

from agent.errors import InputDataError


def text(item: dict[str, Any], key: str, what: str, *, kind: str = "an item") -> str:
    """A required, non-empty string."""
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise InputDataError(f"{what}: {kind} without {key}")
    return value


def optional_text(item: dict[str, Any], key: str, what: str) -> str | None:
    """A string, or None when absent, null or empty."""
    value = item.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InputDataError(f"{what}: {key} is not a string")
    return value


def ids(value: Any, what: str, where: str) -> list[str]:
    """A list of ids (group or user ids in a policy's conditions); absent or null is []."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputDataError(f"{what}: {where} is not a list of ids")
    return list(value)


def path(item: Any, what: str, *keys: str) -> Any:
    """`item[k1][k2]...`, None where a level is absent or null; a level that is something else
    than an object fails."""
    for depth, key in enumerate(keys):
        if item is None:
            return None
        if not isinstance(item, dict):
            raise InputDataError(f"{what}: {'.'.join(keys[:depth]) or 'an item'} is not an object")
        item = item.get(key)
    return item
