"""AWS checks on governance of the cloud estate: Organization guardrails and security contacts."""

from __future__ import annotations

from collections.abc import Iterator

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Result
from checks._judging import flag
from checks.aws._common import judge_each

ORG_POLICIES = "aws.organizations.policies"
SECURITY_CONTACT = "aws.account.security_contact"


@check(
    "aws.organizations.scp_guardrails",
    title="Service control policies set guardrails for every account",
    controls={
        "A.5.23": "SCPs enforce the organisation's security requirements on every cloud account it uses.",
        "A.5.15": "They are access-control rules bounding what any identity in a member account may do.",
    },
    severity="minor",
    needs=[ORG_POLICIES],
    rationale="Without SCPs, each account's administrators can switch off logging or use unapproved regions.",
    remediation="Manage accounts in an AWS Organization with all features, enable SCPs, and attach "
    "guardrail policies (deny leaving the organisation, disabling CloudTrail/GuardDuty, unused regions).",
)
def scp_guardrails(ev: Evidence) -> Iterator[Result]:
    """SCPs must be enabled on the root and at least one custom SCP attached somewhere."""
    records = ev.records(ORG_POLICIES)
    org = next((r for r in records if "InOrganization" in r.data), None)
    if org is None:
        yield Result.error(ev.scope, f"no Organization record was collected for {ev.scope}")
        return
    if not org.data["InOrganization"]:
        yield Result.of(org, passed=False, reason="the account is not managed by an AWS Organization")
        return
    attached = [
        r for r in records if "Content" in r.data and not r.data.get("AwsManaged") and r.data.get("Targets")
    ]
    problems = []
    if not org.data.get("ScpEnabledRoots"):
        problems.append("the SCP policy type is not enabled on the root")
    if not attached:
        problems.append("no custom SCP is attached to the root, an OU or an account")
    reason = (
        f"{org.data.get('Id')}: {'; '.join(problems)}"
        if problems
        else (
            f"{org.data.get('Id')}: SCPs {', '.join(sorted(r.data['Name'] for r in attached))} are attached"
        )
    )
    yield Result.of(org, *attached, passed=not problems, reason=reason)


@check(
    "aws.account.security_contact",
    title="Each AWS account has a security contact",
    controls={
        "A.6.8": "AWS reports abuse and security events it sees in the account to this contact.",
        "A.5.24": "AWS sends abuse and compromise notices to the security contact, who must be reachable "
        "for incident response.",
    },
    severity="minor",
    needs=[SECURITY_CONTACT],
    rationale="Without one, AWS's security notifications reach only the root e-mail, often nobody on call.",
    remediation="Set the account's alternate security contact to the security team's shared mailbox.",
)
def security_contact(ev: Evidence) -> Iterator[Result]:
    """The account must have an alternate security contact with an e-mail address."""
    judge = flag("Present", lambda _, on: "security contact is set" if on else "no security contact")
    yield from judge_each(ev, SECURITY_CONTACT, "security contact", judge)
