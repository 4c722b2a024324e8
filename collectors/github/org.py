"""The organisation's own settings and its members, with each member's SAML identity where SSO is on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import InputDataError, collector
from agent.plugin.model import Record
from collectors.github.targets import GithubOrg

PERMISSIONS = ("read", "write", "admin", "none")
SAML_IDENTITIES = """
query($org: String!, $after: String) {
  organization(login: $org) {
    samlIdentityProvider {
      externalIdentities(first: 100, after: $after) {
        edges { node { samlIdentity { nameId } user { login } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""


@collector(
    "github.org.settings",
    scope="github_org",
    freshness=timedelta(hours=24),
    permissions=["organization_administration:read"],
)
def org_settings(org: GithubOrg) -> Iterator[Record]:
    """Whether two-factor authentication is required and the members' base repository permission.

    GitHub shows both only to owners (or a token with organisation administration read); to anyone
    else they are absent, which is recorded as None (unknown), never as off.
    """
    doc = org.api.get(f"/orgs/{org.login}")
    two_factor = doc.get("two_factor_requirement_enabled")
    base = doc.get("default_repository_permission")
    yield Record(
        resource_id=org.login,
        data={
            "login": doc.get("login") or org.login,
            "two_factor_requirement_enabled": two_factor if isinstance(two_factor, bool) else None,
            "default_repository_permission": base if base in PERMISSIONS else None,
        },
    )


def saml_emails(org: GithubOrg) -> dict[str, str]:
    """Member login -> SAML nameId, through every page of the organisation's external identities;
    empty when the organisation has no SAML identity provider."""
    emails: dict[str, str] = {}
    after: str | None = None
    while True:
        data = org.api.graphql(
            "organization.samlIdentityProvider", SAML_IDENTITIES, {"org": org.login, "after": after}
        )
        organization = data.get("organization")
        if not isinstance(organization, dict) or "samlIdentityProvider" not in organization:
            raise InputDataError(
                "GraphQL organization.samlIdentityProvider: an answer without the organization's provider"
            )
        provider = organization["samlIdentityProvider"]
        if provider is None:  # explicitly null, without errors: no SAML identity provider
            return emails
        identities = provider.get("externalIdentities") or {}
        for edge in identities.get("edges") or []:
            node = edge.get("node") or {}
            user, identity = node.get("user"), node.get("samlIdentity")
            if user and identity and identity.get("nameId"):
                emails[user["login"]] = identity["nameId"]
        page = identities.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            return emails
        if not page.get("endCursor") or page["endCursor"] == after:
            raise InputDataError(
                "GraphQL organization.samlIdentityProvider: a next page without a new cursor"
            )
        after = page["endCursor"]


def _login(user: dict[str, Any], what: str) -> str:
    login = user.get("login")
    if not isinstance(login, str) or not login:
        raise InputDataError(f"{what}: a user without a login")
    return login


@collector(
    "github.org.members",
    scope="github_org",
    freshness=timedelta(hours=24),
    permissions=["members:read", "organization_administration:read"],
)
def members(org: GithubOrg) -> Iterator[Record]:
    """Each member with their role (admin = owner) and, under SAML SSO, the identity they sign in as."""
    path = f"/orgs/{org.login}/members"
    owners = {_login(u, f"GET {path}") for u in org.api.pages(path, {"role": "admin"})}
    emails = saml_emails(org)
    for user in org.api.pages(path):
        login = _login(user, f"GET {path}")
        yield Record(
            resource_id=login,
            data={
                "login": login,
                "role": "admin" if login in owners else "member",
                "email": emails.get(login),
            },
        )
