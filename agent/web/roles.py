"""Who may do what: roles are sets of capabilities, not ranks.

An auditor reads, samples and reviews but never moves an NC (their independence is the point);
an editor acts on NCs and attests; an admin does everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agent.config.sections import WebSettings


class Can(StrEnum):
    READ = "read"
    SAMPLE = "sample"  # draw samples, record reviews
    ACT = "act"  # NC actions and attestations


CAPABILITIES: dict[str, frozenset[Can]] = {
    "viewer": frozenset({Can.READ}),
    "auditor": frozenset({Can.READ, Can.SAMPLE}),
    "editor": frozenset({Can.READ, Can.ACT}),
    "admin": frozenset(Can),
}


@dataclass(frozen=True)
class User:
    """A signed-in person: `name` is what the NC history records as the actor."""

    name: str
    role: str | None
    via: str  # "token", "oidc" or "proxy"

    def can(self, what: Can) -> bool:
        return self.role is not None and what in CAPABILITIES[self.role]


def role_of(settings: WebSettings, name: str, groups: list[str]) -> str | None:
    """The most capable role `roles` gives the user or any of their groups, else `default_role`."""
    order = ["viewer", "auditor", "editor", "admin"]
    given = [settings.roles[k] for k in (name, *groups) if k in settings.roles]
    if given:
        return max(given, key=order.index)
    return settings.default_role
