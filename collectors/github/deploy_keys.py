"""Deploy keys: SSH keys with access to a single repository, outside any person's account."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import InputDataError, collector
from agent.plugin.model import Record
from collectors.github.client import full_name
from collectors.github.targets import GithubOrg


@collector(
    "github.repos.deploy_keys",
    scope="github_org",
    freshness=timedelta(hours=24),
    permissions=["administration:read", "metadata:read"],
)
def deploy_keys(org: GithubOrg) -> Iterator[Record]:
    """Each deploy key of each repository that is not archived: title, read-only or not, created."""

    def keys(repo: dict[str, Any]) -> list[Record]:
        name = full_name(repo)
        listed = list(org.api.pages(f"/repos/{name}/keys"))
        if any(not isinstance(key.get("id"), int) for key in listed):
            raise InputDataError(f"GET /repos/{name}/keys: a key without an id")
        return [
            Record(
                resource_id=f"{name}:{key['id']}",
                data={
                    "repository": name,
                    "title": str(key.get("title") or ""),
                    "read_only": bool(key.get("read_only")),
                    "created_at": key.get("created_at"),
                },
            )
            for key in listed
        ]

    for records in org.api.fan_out(org.api.repositories(), keys):
        yield from records
