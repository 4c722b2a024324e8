"""The GCP checks: their number, the reasons an auditor reads, and member parsing.

Every scenario's verdicts are checked by tests/test_check_scenarios.py.
"""

from __future__ import annotations

import pytest

from agent.plugin.evidence import Evidence
from checks._gcp_iam import domain_of, email_of, within
from tests.scenarios import CHECKS, NOW, SCENARIOS, Scenario, evaluate
from tests.scenarios import gcp as sc

GCP_SCENARIOS = [s for s in SCENARIOS if s.check_id.startswith("gcp.")]
GCP_CHECKS = sorted(c for c in CHECKS if c.startswith("gcp."))


def test_at_least_eight_checks() -> None:
    assert len(GCP_CHECKS) >= 8


def reasons(scenario: Scenario) -> dict[str, str]:
    return {r.resource_id: r.reason for r in evaluate(scenario)}


def test_inherited_grants_are_reported_where_set_with_their_reach() -> None:
    [scenario] = [s for s in GCP_SCENARIOS if s.check_id == "gcp.iam.public_members"]
    said = reasons(scenario)
    assert said[sc.FOLDER] == (
        "folders/456 (Engineering), inherited by 12 projects: public members: "
        "allAuthenticatedUsers as roles/browser if 'until 2027'"
    )
    assert said[sc.PROJECT].startswith("projects/acme-prod: public members: allUsers as roles/run.invoker")


def test_leaver_reason_names_the_person_not_more() -> None:
    scenario = next(s for s in GCP_SCENARIOS if s.check_id == "gcp.iam.leaver_bindings")
    said = reasons(scenario)
    assert "user:Dan@acme.com as roles/viewer (Person E2 (E2), linked by email, left)" in said[sc.ORG]


def test_a_bare_string_parameter_is_refused_not_split_into_letters() -> None:
    spec = CHECKS["gcp.iam.external_members"]
    ev = Evidence.of(
        "gcp:x", {sc.POLICIES: [sc.policy(sc.PROJECT)]}, now=NOW, params={"company_domains": "acme.com"}
    )
    with pytest.raises(ValueError, match="must be a list"):
        list(spec.func(ev))


@pytest.mark.parametrize(
    ("member", "email", "domain"),
    [
        ("user:A@Acme.com", "a@acme.com", "acme.com"),
        ("deleted:user:old@acme.com?uid=42", "old@acme.com", "acme.com"),
        ("group:eng@acme.com", "eng@acme.com", "acme.com"),
        ("serviceAccount:ci@p.iam.gserviceaccount.com", "ci@p.iam.gserviceaccount.com", None),
        ("domain:partner.example", None, "partner.example"),
        ("allUsers", None, None),
        ("principalSet://iam.googleapis.com/locations/global/workforcePools/p/*", None, None),
    ],
)
def test_member_parsing(member: str, email: str | None, domain: str | None) -> None:
    assert (email_of(member), domain_of(member)) == (email, domain)


def test_subdomains_count_as_inside_lookalikes_do_not() -> None:
    assert within("eu.acme.com", ["acme.com"]) and not within("notacme.com", ["acme.com"])
