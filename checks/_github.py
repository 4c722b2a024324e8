"""Reading the GitHub records the collectors emit: one organisation's settings, people and repositories.

The collectors write `None` where the token could not see a setting; these helpers keep that
apart from "off", so a check reports `error` for what it could not see, never a pass or a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result

SETTINGS = "github.org.settings"
MEMBERS = "github.org.members"
OUTSIDE_COLLABORATORS = "github.org.outside_collaborators"
PROTECTION = "github.repos.protection"
SECURITY = "github.repos.security"
DEPENDABOT = "github.alerts.dependabot"
CODE_SCANNING = "github.alerts.code_scanning"
DEPLOY_KEYS = "github.repos.deploy_keys"

ENABLED, DISABLED = "enabled", "disabled"


def repository(rec: Record) -> str:
    """`<org>/<repo>`, as every repository record names itself."""
    return str(rec.data.get("repository") or rec.resource_id)


def login(rec: Record) -> str:
    return str(rec.data.get("login") or rec.resource_id)


def switched(value: object) -> bool | None:
    """`enabled` → True, `disabled` → False; anything else (None: not visible) is unknown."""
    return {ENABLED: True, DISABLED: False}.get(value) if isinstance(value, str) else None


def org_setting(
    ev: Evidence, key: str, what: str, judge: Callable[[Record, Any], Result]
) -> Iterator[Result]:
    """Judge one organisation setting; a setting the token could not see is an error, never a pass."""
    records = ev.records(SETTINGS)
    if not records:
        yield Result.error(ev.scope, f"no organisation settings in the evidence for {ev.scope}")
    for rec in records:
        value = rec.data.get(key)
        if value is None:
            yield Result.error(rec.resource_id, f"{login(rec)}: {what} is not visible to the token")
        else:
            yield judge(rec, value)
