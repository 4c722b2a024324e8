"""The OAuth 2.0 scopes the Okta collectors declare, in one place: the collectors name them as their
permissions, a service app requests exactly these, and the permissions document lists them."""

from __future__ import annotations

USERS_READ = "okta.users.read"  # users and their enrolled factors
ROLES_READ = "okta.roles.read"  # who holds which admin role
POLICIES_READ = "okta.policies.read"  # global session and authentication policies, with rules
SCOPES = (USERS_READ, ROLES_READ, POLICIES_READ)
