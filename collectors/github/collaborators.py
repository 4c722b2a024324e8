"""Outside collaborators: people who are not members yet have access to the organisation's repositories."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import InputDataError, collector
from agent.plugin.model import Record
from collectors.github.client import full_name
from collectors.github.targets import GithubOrg

# GitHub's `permissions` flags, strongest first, and the role each one means; a custom repository
# role reads as the base role it extends.
LEVELS = (
    ("admin", "admin"),
    ("maintain", "maintain"),
    ("push", "write"),
    ("triage", "triage"),
    ("pull", "read"),
)


def permission(user: dict[str, Any], what: str) -> str:
    flags = user.get("permissions")
    if not isinstance(flags, dict):
        raise InputDataError(f"{what}: a collaborator without permissions")
    role = next((role for flag, role in LEVELS if flags.get(flag) is True), None)
    if role is None:  # every collaborator can at least pull: no flag set is no permission shown
        raise InputDataError(f"{what}: a collaborator without any permission flag")
    return role


def _login(user: dict[str, Any], what: str) -> str:
    login = user.get("login")
    if not isinstance(login, str) or not login:
        raise InputDataError(f"{what}: a collaborator without a login")
    return login


@collector(
    "github.org.outside_collaborators",
    scope="github_org",
    freshness=timedelta(hours=24),
    permissions=["members:read", "metadata:read"],
)
def outside_collaborators(org: GithubOrg) -> Iterator[Record]:
    """Each outside collaborator and, per repository that is not archived, the permission they hold."""
    path = f"/orgs/{org.login}/outside_collaborators"
    grants: dict[str, list[dict[str, str]]] = {_login(u, f"GET {path}"): [] for u in org.api.pages(path)}
    if not grants:
        return  # no outside collaborator anywhere: no repository can have one

    def outside_of(repo: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
        name = full_name(repo)
        path = f"/repos/{name}/collaborators"
        found = org.api.pages(path, {"affiliation": "outside"})
        return name, [(_login(u, f"GET {path}"), permission(u, f"GET {path}")) for u in found]

    for name, collaborators in org.api.fan_out(org.api.repositories(), outside_of):
        for login, level in collaborators:
            grants.setdefault(login, []).append({"repository": name, "permission": level})
    for login, repositories in grants.items():
        yield Record(resource_id=login, data={"login": login, "repositories": repositories})
