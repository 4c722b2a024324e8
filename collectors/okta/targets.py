"""The Okta org to collect from: one target, and one evidence scope, per `[okta]` section.

Resolving makes no call: the org is the one `[okta] org_url` names. Its `OktaApi` is built here
(credentials read, the SDK configured), so a bad key fails the target, not each collector.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from agent.plugin import scope_kind
from collectors.okta.client import OktaApi
from collectors.okta.settings import OktaSettings, org_host


@dataclass(frozen=True)
class OktaOrg:
    """The target of scope kind `okta_org`."""

    host: str
    api: OktaApi = field(repr=False, compare=False)

    @property
    def scope(self) -> str:
        return f"okta:{self.host}"


@scope_kind("okta_org", system="okta")
def okta_orgs(settings: OktaSettings) -> Iterator[OktaOrg]:
    """The org at `[okta] org_url`."""
    yield OktaOrg(org_host(settings.org_url), OktaApi(settings))
