"""A simulated Google Workspace (Admin SDK Directory API v1 and its OAuth token endpoint) for the real
google-api-python-client: the collectors' tests, the demo and the benchmark.

    world = WorkspaceWorld()
    world.add_user("ada@example.com", isAdmin=True, isEnrolledIn2Sv=True)
    world.grant(STATIC_TOKEN)
    with WorkspaceServer(world) as server:  # server.url is the SDK's api_endpoint
        ...

world.py holds the customer (users, roles, assignments, service accounts, tokens), server.py the API,
oauth.py the JWT-bearer grant, partial.py the `fields` parameter.
"""

from __future__ import annotations

from simulators.google_workspace.server import (
    BASE,
    TOKEN_PATH,
    WorkspaceServer,
    error_document,
    google_fault,
    rate_limited,
)
from simulators.google_workspace.world import (
    NEVER,
    READONLY_SCOPES,
    ROLES_FULL,
    ROLES_READONLY,
    STATIC_TOKEN,
    USERS_FULL,
    USERS_READONLY,
    Grant,
    ServiceAccount,
    WorkspaceWorld,
)
from simulators.localserver import Fault, Pacing

__all__ = [
    "BASE",
    "NEVER",
    "READONLY_SCOPES",
    "ROLES_FULL",
    "ROLES_READONLY",
    "STATIC_TOKEN",
    "TOKEN_PATH",
    "USERS_FULL",
    "USERS_READONLY",
    "Fault",
    "Grant",
    "Pacing",
    "ServiceAccount",
    "WorkspaceServer",
    "WorkspaceWorld",
    "error_document",
    "google_fault",
    "rate_limited",
]
