"""`python -m agent.plugin.permissions google_workspace`: the OAuth scopes an administrator grants the
service account's client id for domain-wide delegation, as a list and as the Admin console takes them.

The client id is the service account's own (its unique id), which only the administrator knows; the
document says where to enter it. A declared scope that is not a read-only Google API scope stops the
generator: delegation would grant the agent more than reading every user in the domain.
"""

from __future__ import annotations

import json

from agent.errors import PluginError
from agent.plugin import permissions_document

SCOPE_PREFIX = "https://www.googleapis.com/auth/"
WHERE = (
    "Admin console > Security > Access and data control > API controls > Manage Domain Wide "
    "Delegation > Add new: the service account's client ID, and these OAuth scopes (comma-delimited)"
)


@permissions_document("google_workspace")
def delegation_scopes(permissions: list[str]) -> str:
    """`{"oauth_scopes": [...], "admin_console": "a,b", "where": ...}`, read-only scopes only."""
    for scope in permissions:
        if not scope.startswith(SCOPE_PREFIX) or not scope.endswith(".readonly"):
            raise PluginError(f"Google Workspace scope {scope!r} is not a read-only Google API scope")
    document = {"oauth_scopes": permissions, "admin_console": ",".join(permissions), "where": WHERE}
    return json.dumps(document, indent=2) + "\n"
