"""The Okta checks beyond their verdicts: the readers other checks share, the reasons an auditor reads,
and failing closed on malformed evidence or parameters.

Every scenario's verdicts are checked by tests/test_check_scenarios.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.plugin.evidence import Evidence
from checks import _okta
from tests.scenarios import CHECKS, NOW, SCENARIOS, Scenario, evaluate
from tests.scenarios import okta as sc


def reasons(scenario: Scenario) -> dict[str, str]:
    return {r.resource_id: r.reason for r in evaluate(scenario)}


def scenario(check_id: str, name_starts: str) -> Scenario:
    return next(s for s in SCENARIOS if s.check_id == check_id and s.name.startswith(name_starts))


def test_readers_name_and_time_a_user() -> None:
    gone = sc.user("u-1", "a@acme.com", status="DEPROVISIONED", changed=1, last=None, created=-3)
    assert _okta.login(gone) == "a@acme.com"
    assert not _okta.is_active(gone)
    assert _okta.state(gone) == "DEPROVISIONED 2026-11-02"
    assert _okta.last_login(gone) is None
    assert _okta.created(gone) == datetime(2026, 10, 29, 12, 0, tzinfo=UTC)
    assert _okta.mfa_factors(gone) is None  # a deprovisioned user's factors are not listed

    bare = sc.user("u-2", "", status="SOMETHING_NEW")
    bare.data["email"] = None
    assert _okta.login(bare) == "u-2"
    assert _okta.is_active(bare) and _okta.state(bare) == "SOMETHING_NEW"  # unknown counts as active
    assert _okta.state(sc.user("u-3", "c@acme.com", status="SUSPENDED", changed=-5)) == "SUSPENDED 2026-10-27"


def test_only_active_factors_not_ignored_count() -> None:
    user = sc.user("u-1", "a@acme.com", factors=("question", "Email", "sms"), pending=("push",))
    assert _okta.mfa_factors(user) == ["sms"]
    assert _okta.mfa_factors(user, ignored=("SMS",)) == ["question", "Email"]
    assert _okta.mfa_factors(sc.user("u-2", "b@acme.com", factors=())) == []


def test_factors_that_are_not_a_list_raise() -> None:
    user = sc.user("u-1", "a@acme.com")
    user.data["factors"] = {"push": "ACTIVE"}
    with pytest.raises(ValueError, match="not a list of factors"):
        _okta.mfa_factors(user)


def test_policy_reasons_name_the_offending_rules() -> None:
    said = reasons(scenario("okta.mfa.policy_enforced", "a sign-on rule without a factor and an app rule"))
    assert said[sc.ENFORCEMENT] == (
        "MFA not enforced: sign-on rules allowing sign-in without a factor: 'policy default' rule "
        "'rule catch-all'; authentication policy rules allowing access without 2FA: 'policy dashboard' "
        "rule 'rule 1fa' (1FA)"
    )


def test_policy_reasons_name_the_exclusions_of_enforcing_rules() -> None:
    said = reasons(scenario("okta.mfa.policy_enforced", "every active allowing sign-on rule"))
    assert said[sc.ENFORCEMENT].endswith(
        "review the exclusions: 'policy default' rule 'rule mfa' excludes user(s) 00u-breakglass"
    )
    per_app = reasons(scenario("okta.mfa.policy_enforced", "MFA enforced per app"))[sc.ENFORCEMENT]
    assert "sign-on rules without a factor: 'policy default' rule 'rule catch-all'" in per_app
    assert per_app.endswith("'policy dashboard' rule 'rule 2fa' excludes group(s) 00g-contractors")


def test_factor_reasons_say_what_does_not_count() -> None:
    said = reasons(scenario("okta.mfa.user_not_enrolled", "a possession factor passes"))
    assert said["u-2"] == "b@acme.com: only email, question enrolled, which do not count as a second factor"
    assert said["u-1"] == "a@acme.com: enrolled in push"
    admins = reasons(scenario("okta.admins.without_mfa", "active admins"))
    assert admins["u-2"].startswith("b@acme.com (APP_ADMIN, ORG_ADMIN): only question")
    assert admins["u-3"] == "admin role holder u-3 (APP_ADMIN) is not in the okta.users evidence"


def test_admin_count_names_holders_and_the_limit() -> None:
    said = reasons(scenario("okta.admins.count", "a holder missing"))
    assert said[sc.ORG] == (
        "5 active holder(s) of SUPER_ADMIN (limit 4): 1@acme.com, 2@acme.com, 3@acme.com, 4@acme.com, "
        "u-5 (not in okta.users)"
    )


def test_a_malformed_timestamp_makes_the_check_fail_closed() -> None:
    user = sc.user("u-1", "a@acme.com")
    user.data["lastLogin"] = "last Tuesday"
    ev = Evidence.of(sc.ORG, {sc.USERS: [user]}, now=NOW, params=CHECKS["okta.users.inactive"].params)
    with pytest.raises(ValueError, match="not an ISO 8601 timestamp"):
        list(CHECKS["okta.users.inactive"].func(ev))


@pytest.mark.parametrize(
    ("check_id", "param"),
    [
        ("okta.users.inactive", "exempt_accounts"),
        ("okta.mfa.user_not_enrolled", "ignored_factor_types"),
        ("okta.admins.count", "counted_roles"),
    ],
)
def test_a_bare_string_parameter_is_refused_not_split_into_letters(check_id: str, param: str) -> None:
    spec = CHECKS[check_id]
    records = {
        source: [sc.admin("u-1", "SUPER_ADMIN")] if source == sc.ROLES else [] for source in spec.needs
    }
    records[sc.USERS] = [sc.user("u-1", "a@acme.com")]
    ev = Evidence.of(sc.ORG, records, now=NOW, params={**spec.params, param: "svc-*"})
    with pytest.raises(ValueError, match="must be a list"):
        list(spec.func(ev))
