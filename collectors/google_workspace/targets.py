"""The Google Workspace customer to collect from: one target, and one evidence scope.

Resolving makes no call: the customer is `[google_workspace] customer_id` (`my_customer`, the
administrator's own, by default). Its `WorkspaceApi` is shared by both collectors.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from agent.plugin import scope_kind
from collectors.google_workspace.client import WorkspaceApi
from collectors.google_workspace.settings import GoogleWorkspaceSettings


@dataclass(frozen=True)
class WorkspaceCustomer:
    """The target of scope kind `google_workspace_customer`."""

    customer_id: str
    api: WorkspaceApi = field(repr=False, compare=False)

    @property
    def scope(self) -> str:
        return f"google_workspace:{self.customer_id}"


@scope_kind("google_workspace_customer", system="google_workspace")
def google_workspace_customers(settings: GoogleWorkspaceSettings) -> Iterator[WorkspaceCustomer]:
    """The one customer `[google_workspace]` names."""
    yield WorkspaceCustomer(settings.customer_id, WorkspaceApi(settings))
