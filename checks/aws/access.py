"""AWS checks on who can reach what: IAM Access Analyzer's coverage and external-access findings,
full-administrator policies on roles and groups, and who each role's trust policy lets in.

Registered through checks/aws/posture.py's entry point, which imports this module.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result
from checks._judging import as_list, or_nothing_to_judge
from checks.aws._common import arn_account, arn_region, judge_each
from checks.aws._policy import allows_everything, statements
from checks.aws._policy import as_list as each

ANALYZERS = "aws.accessanalyzer.analyzers"
AA_FINDINGS = "aws.accessanalyzer.findings"
ROLES = "aws.iam.roles"
GROUPS = "aws.iam.groups"
POLICIES = "aws.iam.policies"
EXTERNAL_ACCESS = frozenset({"ACCOUNT", "ORGANIZATION"})
AWS_MANAGED_POLICY = re.compile(r"^arn:[\w-]+:iam::aws:policy/")
# The actions that assume a role; a statement's action (a glob, matched without case) allows one of them.
ASSUME_ACTIONS = ("sts:assumerole", "sts:assumerolewithwebidentity", "sts:assumerolewithsaml")
# Condition keys that bind a cross-account trust to the caller's own organization or to a secret
# the trusted party must present (the confused-deputy guard AWS prescribes for third parties).
ORG_BOUND = frozenset({"aws:principalorgid", "aws:principalorgpaths"})
EXTERNAL_ID = "sts:externalid"
OIDC_PROVIDER = re.compile(r"^arn:[\w-]+:iam::\d{12}:oidc-provider/(.+)$")
SAML_PROVIDER = re.compile(r"^arn:[\w-]+:iam::\d{12}:saml-provider/")


# --- Access Analyzer ------------------------------------------------------------------------------


def _external_analyzers(rec: Record) -> list[str]:
    return [
        str(a.get("name"))
        for a in rec.data.get("analyzers") or []
        if a.get("type") in EXTERNAL_ACCESS and a.get("status") == "ACTIVE"
    ]


@check(
    "aws.accessanalyzer.enabled",
    title="IAM Access Analyzer watches every region for external access",
    controls={
        "A.5.15": "The analyzer verifies resource policies against the intended boundary of access.",
        "A.8.3": "It reports every resource shared outside the account or organization.",
    },
    severity="minor",
    needs=[ANALYZERS],
    rationale="Without an analyzer, a bucket, key or role opened to another account goes unnoticed.",
    remediation="Create an account analyzer in the region (an organization analyzer lives in the delegated "
    "administrator account and is judged there).",
)
def access_analyzer_enabled(ev: Evidence) -> Iterator[Result]:
    """Each region needs an active analyzer of type ACCOUNT or ORGANIZATION."""

    def judge(rec: Record) -> Result:
        where, names = arn_region(rec.resource_id), _external_analyzers(rec)
        said = f"analyzer {', '.join(names)} active" if names else "no active external-access analyzer"
        return Result.of(rec, passed=bool(names), reason=f"{where}: {said}")

    yield from judge_each(ev, ANALYZERS, "Access Analyzer", judge)


@check(
    "aws.accessanalyzer.external_access_findings",
    title="No resource is shared outside the zone of trust without review",
    controls={
        "A.5.15": "Each active finding is access granted beyond the account or organization, not yet "
        "confirmed as intended.",
        "A.8.3": "Access to information in the resource is open to principals outside the organization.",
    },
    severity="major",
    needs=[AA_FINDINGS, ANALYZERS],
    rationale="Unreviewed external access is how data leaks through a mistaken bucket, key or role policy.",
    remediation="Remove the access from the resource policy, or archive the finding (an archive rule for "
    "trusted partners) once the access is confirmed as intended.",
)
@or_nothing_to_judge("Access Analyzer findings")
def external_access_findings(ev: Evidence) -> Iterator[Result]:
    """Each active finding fails; a region with an analyzer and no active finding passes."""
    findings = ev.records(AA_FINDINGS)
    for f in findings:
        d = f.data
        who = (
            "everyone"
            if d.get("isPublic")
            else ", ".join(f"{k} {v}" for k, v in (d.get("principal") or {}).items())
        )
        reason = f"{d.get('resourceType')} {d.get('resource')} (account {d.get('resourceOwnerAccount')}) is open to {who}"
        yield Result.of(f, passed=False, reason=reason)
    if findings:
        return
    if not ev.records(ANALYZERS):  # one record per region, analyzers or none: without it nothing is known
        yield Result.error(ev.scope, f"no Access Analyzer record was collected for {ev.scope}")
    for rec in ev.records(ANALYZERS):
        where = arn_region(rec.resource_id)
        if _external_analyzers(rec):
            yield Result.of(rec, passed=True, reason=f"{where}: no active external-access finding")
        else:
            yield Result.not_applicable(rec, f"{where}: no analyzer (judged by aws.accessanalyzer.enabled)")


# --- IAM roles and groups -------------------------------------------------------------------------


def _admin_grants(
    entity: Mapping[str, Any], inline: str, customer: Mapping[Hashable, Record]
) -> tuple[list[str], list[Record], list[str]]:
    """The customer-defined policies giving `entity` full administrator access, the customer
    managed policy records consulted, and attached customer policies that were not collected."""
    names: list[str] = []
    cited: list[Record] = []
    uncollected: list[str] = []
    for attached in entity.get("AttachedManagedPolicies") or []:
        arn = attached.get("PolicyArn", "")
        policy = customer.get(arn)
        if policy is not None and not isinstance(policy.data.get("DefaultVersionDocument"), Mapping):
            uncollected.append(arn)  # listed without its document: unknown, never "grants nothing"
        elif policy is not None:
            cited.append(policy)
            if allows_everything(policy.data.get("DefaultVersionDocument")):
                names.append(f"customer managed policy '{policy.data.get('PolicyName', arn)}'")
        elif not AWS_MANAGED_POLICY.match(arn):
            uncollected.append(arn)
    names += [
        f"inline policy '{p.get('PolicyName', '?')}'"
        for p in entity.get(inline) or []
        if allows_everything(p.get("PolicyDocument"))
    ]
    return names, cited, uncollected


@check(
    "aws.iam.role_group_admin_policy",
    title="No role or group holds a customer-defined policy allowing every action",
    controls={
        "A.8.2": "'*' on '*' is full administrator access; such privilege must be granted deliberately.",
        "A.5.15": "A home-made policy allowing everything defeats least privilege for whoever holds it.",
    },
    severity="major",
    needs=[ROLES, GROUPS, POLICIES],
    rationale="A customer policy allowing '*' on '*' grants administration unnoticed, under an innocent name.",
    remediation="Replace the policy with one scoped to the actions and resources the role or group needs; "
    "where full administration is intended, use the AWS managed AdministratorAccess policy on a "
    "dedicated role assumed with MFA.",
)
@or_nothing_to_judge("roles or groups with customer managed or inline policies")
def role_group_admin_policy(ev: Evidence) -> Iterator[Result]:
    """Roles and groups holding customer managed or inline policies fail when one allows '*' on '*';
    those holding only AWS managed policies are not judged here."""
    customer = ev.index(POLICIES, lambda p: p.resource_id)
    kinds = ((ROLES, "role", "RoleName", "RolePolicyList"), (GROUPS, "group", "GroupName", "GroupPolicyList"))
    for source, kind, name_key, inline in kinds:
        for entity in ev.records(source):
            names, cited, uncollected = _admin_grants(entity.data, inline, customer)
            name = f"{kind} {entity.data.get(name_key)}"
            if names:
                reason = f"{name} has full administrator access through {', '.join(names)}"
                yield Result.of(entity, *cited, passed=False, reason=reason)
            elif uncollected:
                reason = (
                    f"{name} has customer managed policies that were not collected: {', '.join(uncollected)}"
                )
                yield Result.error(entity.resource_id, reason)
            elif cited or entity.data.get(inline):
                reason = f"{name}: no customer managed or inline policy allows every action on every resource"
                yield Result.of(entity, *cited, passed=True, reason=reason)


def _condition_keys(statement: Mapping[str, Any]) -> set[str]:
    """Every key the statement's conditions test, lower-cased (IAM compares them so)."""
    return {
        key.lower()
        for block in (statement.get("Condition") or {}).values()
        if isinstance(block, Mapping)
        for key in block
    }


def _allows_assume(statement: Mapping[str, Any]) -> bool:
    """Whether the statement allows assuming the role: an `Action` glob matching one of the assume
    actions (`sts:Assume*`, `*:*`, `*`), or any `NotAction` (it allows all but what it names)."""
    if "NotAction" in statement:
        return True
    return any(
        fnmatchcase(name, str(a).lower()) for a in each(statement.get("Action")) for name in ASSUME_ACTIONS
    )


def _wildcard_subject(statement: Mapping[str, Any], key: str) -> bool:
    """Whether every value the statement's conditions give `key` matches any subject (`*`, `repo:*`)."""
    values = [
        str(v)
        for block in (statement.get("Condition") or {}).values()
        if isinstance(block, Mapping)
        for k, value in block.items()
        if k.lower() == key
        for v in each(value)
    ]
    return bool(values) and all(v.split(":", 1)[-1].strip("*") == "" for v in values)


def _trust_faults(doc: Mapping[str, Any] | None, own: str, trusted: set[str]) -> list[str]:
    """What in a trust policy lets in principals beyond services, the own account, `trusted`
    accounts, accounts that must present an ExternalId, and bound federated identities."""
    faults = []
    for s in statements(doc):
        if s.get("Effect") != "Allow" or not _allows_assume(s):
            continue
        keys = _condition_keys(s)
        principal = s.get("Principal")
        kinds = (
            {"AWS": principal} if principal == "*" else principal if isinstance(principal, Mapping) else {}
        )
        for value in each(kinds.get("AWS")):
            account = str(value) if re.fullmatch(r"\d{12}", str(value)) else arn_account(str(value))
            if value == "*" and not keys & ORG_BOUND:
                faults.append("any AWS principal")
            elif (
                account
                and account != own
                and account not in trusted
                and not keys & (ORG_BOUND | {EXTERNAL_ID})
            ):
                faults.append(f"account {account} without sts:ExternalId")
        for value in each(kinds.get("Federated")):
            provider = OIDC_PROVIDER.sub(r"\1", str(value))
            if SAML_PROVIDER.match(str(value)):
                continue
            claim = "aud" if provider == "cognito-identity.amazonaws.com" else "sub"
            key = f"{provider}:{claim}".lower()
            if key not in keys:
                faults.append(f"any identity of {provider} (no condition on {provider}:{claim})")
            elif _wildcard_subject(s, key):
                faults.append(f"any identity of {provider} ({provider}:{claim} matches anything)")
    return faults


@check(
    "aws.iam.role_trust",
    title="Roles trust only known principals",
    controls={
        "A.5.15": "A trust policy is the access rule deciding who may assume the role.",
        "A.8.2": "Assuming a role grants its privileges; an open trust hands them to outsiders.",
        "A.5.19": "Access granted to another party's account needs the safeguard AWS defines for it, "
        "an ExternalId the supplier must present.",
    },
    severity="major",
    needs=[ROLES],
    rationale="A role anyone can assume, or another account can assume without an ExternalId (the confused "
    "deputy), gives its permissions to whoever finds it.",
    remediation="Name the exact principals in the trust policy; require sts:ExternalId for third-party "
    "accounts (or aws:PrincipalOrgID for your own organization), and a subject condition for OIDC "
    "providers. List your organization's accounts in trusted_accounts.",
    params={"trusted_accounts": []},
)
@or_nothing_to_judge("IAM roles")
def role_trust(ev: Evidence) -> Iterator[Result]:
    """Each role fails naming every principal its trust policy lets in unguarded."""
    trusted = set(as_list(ev.param("trusted_accounts"), "trusted_accounts"))
    for role in ev.records(ROLES):
        name = role.data.get("RoleName")
        document = role.data.get("AssumeRolePolicyDocument")
        if not isinstance(document, Mapping):  # every role has one: without it the evidence is incomplete
            yield Result.error(role.resource_id, f"role {name}: its trust policy was not collected")
            continue
        faults = _trust_faults(document, arn_account(role.resource_id), trusted)
        reason = (
            f"role {name} can be assumed by {'; '.join(faults)}"
            if faults
            else f"role {name} trusts only known principals"
        )
        yield Result.of(role, passed=not faults, reason=reason)
