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
    return next((role for flag, role in LEVELS if flags.get(flag)), "read")


@collector(
    "github.org.outside_collaborators",
    scope="github_org",
    freshness=timedelta(hours=24),
    permissions=["members:read", "metadata:read"],
)
def outside_collaborators(org: GithubOrg) -> Iterator[Record]:
    """Each outside collaborator and, per repository that is not archived, the permission they hold."""
    listed = [u.get("login") for u in org.api.pages(f"/orgs/{org.login}/outside_collaborators")]
    grants: dict[str, list[dict[str, str]]] = {login: [] for login in listed if isinstance(login, str)}
    if not grants:
        return  # no outside collaborator anywhere: no repository can have one

    def outside_of(repo: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
        name = full_name(repo)
        path = f"/repos/{name}/collaborators"
        found = org.api.pages(path, {"affiliation": "outside"})
        return name, [(str(u.get("login")), permission(u, f"GET {path}")) for u in found]

    for name, collaborators in org.api.fan_out(org.api.repositories(), outside_of):
        for login, level in collaborators:
            grants.setdefault(login, []).append({"repository": name, "permission": level})
    for login, repositories in grants.items():
        yield Record(resource_id=login, data={"login": login, "repositories": repositories})
