"""Each repository's security features: secret scanning and push protection, Dependabot alerts, and
code scanning's default setup.

Secret scanning comes from the repository's `security_and_analysis`, which GitHub shows only to
those with admin rights: absent, it is None (unknown). Code scanning needs GitHub Advanced Security
(or Code Security) on private repositories; where the plan lacks it GitHub answers 403 or 404, and
the repository is recorded as `unavailable`, not as failing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.github.client import full_name, message
from collectors.github.targets import GithubOrg

NOT_AVAILABLE = ("advanced security must be enabled", "not available", "code security must be enabled")


def _feature(analysis: dict[str, Any] | None, name: str) -> str | None:
    status = ((analysis or {}).get(name) or {}).get("status")
    return status if status in ("enabled", "disabled") else None


def _code_scanning_unavailable(status: int, doc: dict[str, Any]) -> bool:
    return status == 404 or (status == 403 and any(m in message(doc) for m in NOT_AVAILABLE))


@collector(
    "github.repos.security",
    scope="github_org",
    freshness=timedelta(hours=24),
    permissions=["administration:read", "metadata:read"],
)
def security(org: GithubOrg) -> Iterator[Record]:
    """Secret scanning, push protection, Dependabot alerts and code scanning per repository."""

    def features(repo: dict[str, Any]) -> Record:
        name = full_name(repo)
        alerts, _ = org.api.answer(f"/repos/{name}/vulnerability-alerts", lambda status, _: status == 404)
        scanning, setup = org.api.answer(
            f"/repos/{name}/code-scanning/default-setup", _code_scanning_unavailable
        )
        if scanning >= 400:
            code_scanning = "unavailable"
        else:
            code_scanning = "enabled" if setup.get("state") == "configured" else "disabled"
        analysis = repo.get("security_and_analysis")
        return Record(
            resource_id=name,
            data={
                "repository": name,
                "private": bool(repo.get("private")),
                "secret_scanning": _feature(analysis, "secret_scanning"),
                "push_protection": _feature(analysis, "secret_scanning_push_protection"),
                "dependabot_alerts": alerts == 204,
                "code_scanning": code_scanning,
            },
        )

    yield from org.api.fan_out(org.api.repositories(), features)
