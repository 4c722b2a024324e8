"""A loopback Okta org that speaks Okta's JSON, for the real okta SDK: the tests', the demo's and the
benchmark's. `OktaServer(world)` serves an `OktaWorld` (world.py) in Okta's shapes (documents.py).

    world = OktaWorld()                      # accepts `SSWS API_TOKEN`
    seed_users(world, 50_000, statuses=("ACTIVE",) * 49 + ("DEPROVISIONED",))
    world.policies = default_policies()
    with OktaServer(world) as server:        # [okta] org_url = server.url
        ...
"""

from __future__ import annotations

from simulators.localserver import Fault, Pacing, Reply
from simulators.okta.server import OktaServer
from simulators.okta.world import (
    API_TOKEN,
    CLIENT_ID,
    POLICIES_READ,
    ROLES_READ,
    STATUSES,
    USERS_READ,
    Factor,
    OktaWorld,
    Policy,
    Role,
    Rule,
    ServiceApp,
    User,
    default_policies,
    factor,
    role,
    seed_users,
    user_id,
)

__all__ = [
    "API_TOKEN",
    "CLIENT_ID",
    "POLICIES_READ",
    "ROLES_READ",
    "STATUSES",
    "USERS_READ",
    "Factor",
    "Fault",
    "OktaServer",
    "OktaWorld",
    "Pacing",
    "Policy",
    "Reply",
    "Role",
    "Rule",
    "ServiceApp",
    "User",
    "default_policies",
    "factor",
    "role",
    "seed_users",
    "user_id",
]
