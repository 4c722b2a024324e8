"""`python -m agent.plugin.permissions okta`: the OAuth 2.0 scopes an Okta service app must be granted,
as `{"scopes": [...]}` (JSON), for deploy/okta/oauth-scopes.json."""

from __future__ import annotations

import json
import re

from agent.errors import PluginError
from agent.plugin import permissions_document

# Okta's management API read scopes (okta.<resource>.read). A collector declaring anything else
# (a typo, a manage scope) stops the generator rather than producing a grant Okta would refuse
# or that allows more than reading.
READ_SCOPE = re.compile(r"^okta\.[a-zA-Z]+\.read$")


@permissions_document("okta")
def oauth_scopes(permissions: list[str]) -> str:
    """`{"scopes": ["okta.policies.read", ...]}`: what to grant the service app, read-only, sorted."""
    for declared in permissions:
        if not READ_SCOPE.match(declared):
            raise PluginError(f"Okta scope {declared!r} is not a read scope (okta.<resource>.read)")
    return json.dumps({"scopes": sorted(permissions)}, indent=2) + "\n"
