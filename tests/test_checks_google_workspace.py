"""The Google Workspace checks beyond their verdicts: the readers other checks share, the reasons an
auditor reads, and failing closed on malformed evidence.

Every scenario's verdicts are checked by tests/test_check_scenarios.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agent.plugin.evidence import Evidence
from checks import _google_workspace as gw
from tests.scenarios import CHECKS, NOW, SCENARIOS, Scenario, evaluate
from tests.scenarios import google_workspace as sc


def reasons(scenario: Scenario) -> dict[str, str]:
    return {r.resource_id: r.reason for r in evaluate(scenario)}


def scenario(check_id: str, name_starts: str) -> Scenario:
    return next(s for s in SCENARIOS if s.check_id == check_id and s.name.startswith(name_starts))


def test_readers_name_and_time_a_user() -> None:
    user = sc.user("u-1", "a@acme.com", aliases=("ann@acme.com",), last=None, created=-3)
    assert gw.email(user) == "a@acme.com"
    assert gw.emails(user) == ["a@acme.com", "ann@acme.com"]
    assert gw.is_active(user) and gw.state(user) == "active"
    assert gw.last_login(user) is None
    assert gw.created(user) == datetime(2026, 10, 29, 12, 0, tzinfo=UTC)

    user.data["lastLoginTime"] = "1970-01-01T00:00:00.000Z"  # the API's "never", should it get through
    assert gw.last_login(user) is None
    user.data["primaryEmail"] = None
    assert gw.email(user) == "u-1" and gw.emails(user) == ["ann@acme.com"]


@pytest.mark.parametrize(
    ("flags", "state"),
    [
        ({"suspended": True, "reason": "ADMIN"}, "suspended (ADMIN)"),
        ({"suspended": True}, "suspended"),
        ({"archived": True}, "archived"),
        ({"suspended": True, "reason": "ABUSE", "archived": True}, "suspended (ABUSE), archived"),
    ],
)
def test_suspended_or_archived_users_are_not_active(flags: dict[str, Any], state: str) -> None:
    user = sc.user("u-1", "a@acme.com", **flags)
    assert not gw.is_active(user)
    assert gw.state(user) == state


def test_enforcement_reason_counts_users_per_organisational_unit() -> None:
    said = reasons(scenario("google_workspace.mfa.enforced", "not enforced in some"))
    assert (
        said[sc.ENFORCEMENT]
        == "2-step verification is not enforced for 3 of 4 active user(s): /Sales (2), / (1)"
    )


def test_admin_reasons_name_the_roles() -> None:
    said = reasons(scenario("google_workspace.admins.without_mfa", "super, delegated"))
    assert said["u-1"] == "a@acme.com (super admin): enrolled in 2-step verification"
    assert said["u-3"] == "c@acme.com (_GROUPS_ADMIN_ROLE): not enrolled in 2-step verification"
    assert said["u-4"] == "d@acme.com (delegated admin): enrolled in 2-step verification"
    assert (
        said["u-9"] == "role holder u-9 (_HELP_DESK_ADMIN_ROLE) is not in the google_workspace.users evidence"
    )


def test_admin_count_names_the_super_admins_and_the_limit() -> None:
    said = reasons(scenario("google_workspace.admins.count", "active super admins within"))
    assert said[sc.CUSTOMER] == "2 active super admin(s) (limit 2): a@acme.com, b@acme.com"


def test_a_malformed_timestamp_makes_the_check_fail_closed() -> None:
    user = sc.user("u-1", "a@acme.com", last=None)
    user.data["creationTime"] = "26/11/2026"
    spec = CHECKS["google_workspace.users.inactive"]
    ev = Evidence.of(sc.CUSTOMER, {sc.USERS: [user]}, now=NOW, params=spec.params)
    with pytest.raises(ValueError, match="not an ISO 8601 timestamp"):
        list(spec.func(ev))
