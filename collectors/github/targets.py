"""The GitHub organisations to collect from: one target, and one evidence scope, per organisation.

Resolving makes no call: the organisations are the ones `[github] organizations` names. Each gets
its own `GithubApi`, so the cap on requests in flight holds per organisation across collectors.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from agent.plugin import scope_kind
from collectors.github.client import GithubApi
from collectors.github.settings import GithubSettings


@dataclass(frozen=True)
class GithubOrg:
    """The target of scope kind `github_org`."""

    login: str
    api: GithubApi = field(repr=False, compare=False)

    @property
    def scope(self) -> str:
        return f"github:{self.login}"


@scope_kind("github_org", system="github")
def github_orgs(settings: GithubSettings) -> Iterator[GithubOrg]:
    """Each organisation named by `[github] organizations`."""
    for login in settings.organizations:
        yield GithubOrg(login, GithubApi(settings, login))
