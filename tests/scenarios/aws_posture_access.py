"""Scenarios for the AWS access checks (Access Analyzer, roles' and groups' policies, roles' trust),
with records shaped exactly as the collectors emit them."""

from __future__ import annotations

from typing import Any

from agent.plugin.model import Record
from tests.scenarios import ERROR, FAIL, NA, PASS
from tests.scenarios.aws_posture import account_scoped
from tests.scenarios.aws_services import ACCOUNT, OTHER, REGION_SCOPE, ago, arn, ids, regional

ANALYZERS, FINDINGS = "aws.accessanalyzer.analyzers", "aws.accessanalyzer.findings"
ROLES, GROUPS, POLICIES = "aws.iam.roles", "aws.iam.groups", "aws.iam.policies"
ORG_SCOPE = f"aws:{ACCOUNT}"
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
READ_ONLY = {"Statement": {"Effect": "Allow", "Action": ["s3:Get*"], "Resource": "*"}}


def analyzers(*listed: tuple[str, str, str]) -> Record:
    data = [
        {"arn": arn("access-analyzer", f"analyzer/{n}"), "name": n, "type": t, "status": s}
        for n, t, s in listed
    ]
    return Record(arn("access-analyzer", "analyzers"), {"analyzers": data})


def finding(fid: str, public: bool = False) -> Record:
    analyzer = arn("access-analyzer", "analyzer/acct")
    data = {
        "analyzerArn": analyzer,
        "id": fid,
        "resource": f"arn:aws:s3:::share-{fid}",
        "resourceType": "AWS::S3::Bucket",
        "resourceOwnerAccount": ACCOUNT,
        "principal": {"AWS": OTHER},
        "action": ["s3:GetObject"],
        "isPublic": public,
        "condition": {},
        "createdAt": ago(2),
    }
    return Record(f"{analyzer}/finding/{fid}", data)


def trust(
    *principals: Any, condition: dict[str, Any] | None = None, action: str = "sts:AssumeRole"
) -> dict[str, Any]:
    statements = [
        {
            "Effect": "Allow",
            "Principal": p,
            "Action": action,
            **({"Condition": condition} if condition else {}),
        }
        for p in principals
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def role(
    name: str,
    doc: dict[str, Any] | None = None,
    attached: tuple[str, ...] = (),
    inline: dict[str, Any] | None = None,
) -> Record:
    data = {
        "RoleName": name,
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "Path": "/",
        "AssumeRolePolicyDocument": doc or trust({"Service": "lambda.amazonaws.com"}),
        "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in attached],
        "RolePolicyList": [{"PolicyName": "inline", "PolicyDocument": inline}] if inline else [],
    }
    return Record(data["Arn"], data)


def group(name: str, attached: tuple[str, ...] = (), inline: dict[str, Any] | None = None) -> Record:
    data = {
        "GroupName": name,
        "Arn": f"arn:aws:iam::{ACCOUNT}:group/{name}",
        "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in attached],
        "GroupPolicyList": [{"PolicyName": "inline", "PolicyDocument": inline}] if inline else [],
    }
    return Record(data["Arn"], data)


def policy(name: str, doc: dict[str, Any]) -> Record:
    policy_arn = f"arn:aws:iam::{ACCOUNT}:policy/{name}"
    data = {
        "PolicyName": name,
        "Arn": policy_arn,
        "AttachmentCount": 1,
        "IsAttachable": True,
        "DefaultVersionDocument": doc,
    }
    return Record(policy_arn, data)


# --- Access Analyzer -------------------------------------------------------------------------------

AA_ON, AA_FINDINGS = "aws.accessanalyzer.enabled", "aws.accessanalyzer.external_access_findings"
ACTIVE = analyzers(("acct", "ACCOUNT", "ACTIVE"))
UNUSED_ONLY = analyzers(("unused", "ACCOUNT_UNUSED_ACCESS", "ACTIVE"), ("broken", "ORGANIZATION", "FAILED"))
SHARED, PUBLIC = finding("f1"), finding("f2", public=True)
SCENARIOS = [
    regional(AA_ON, "account analyzer active", {ANALYZERS: [ACTIVE]}, ids((ACTIVE, PASS))),
    regional(
        AA_ON, "only unused-access or failed analyzers", {ANALYZERS: [UNUSED_ONLY]}, ids((UNUSED_ONLY, FAIL))
    ),
    regional(AA_ON, "no record", {ANALYZERS: []}, {REGION_SCOPE: ERROR}),
    regional(
        AA_FINDINGS,
        "active findings fail",
        {ANALYZERS: [ACTIVE], FINDINGS: [SHARED, PUBLIC]},
        ids((SHARED, FAIL), (PUBLIC, FAIL)),
    ),
    regional(
        AA_FINDINGS,
        "an analyzer without findings passes",
        {ANALYZERS: [ACTIVE], FINDINGS: []},
        ids((ACTIVE, PASS)),
    ),
    regional(
        AA_FINDINGS,
        "no findings and no analyzers record: unknown",
        {ANALYZERS: [], FINDINGS: []},
        {REGION_SCOPE: ERROR},
    ),
    regional(
        AA_FINDINGS,
        "no analyzer: judged elsewhere",
        {ANALYZERS: [UNUSED_ONLY], FINDINGS: []},
        ids((UNUSED_ONLY, NA)),
    ),
]

# --- IAM roles and groups --------------------------------------------------------------------------

ADMIN_POLICY = "aws.iam.role_group_admin_policy"
STAR, SCOPED = policy("star", ALLOW_ALL), policy("scoped", READ_ONLY)
AWS_ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
R_STAR, R_SCOPED, R_INLINE, R_AWS = (
    role("r-star", attached=(STAR.resource_id,)),
    role("r-scoped", attached=(SCOPED.resource_id,)),
    role("r-inline", inline=ALLOW_ALL),
    role("r-aws", attached=(AWS_ADMIN,)),
)
UNREAD = policy("unread", {})
UNREAD.data["DefaultVersionDocument"] = None  # listed, its default version's document not collected
R_UNREAD = role("r-unread", attached=(UNREAD.resource_id,))
G_STAR, G_SCOPED, G_LOST = (
    group("g-star", attached=(STAR.resource_id,)),
    group("g-scoped", inline=READ_ONLY),
    group("g-lost", attached=(f"arn:aws:iam::{ACCOUNT}:policy/lost",)),
)
SCENARIOS += [
    account_scoped(
        ADMIN_POLICY,
        "customer managed or inline '*:*' fails; AWS managed ones are not judged",
        {
            ROLES: [R_STAR, R_SCOPED, R_INLINE, R_AWS],
            GROUPS: [G_STAR, G_SCOPED, G_LOST],
            POLICIES: [STAR, SCOPED],
        },
        ids(
            (R_STAR, FAIL),
            (R_SCOPED, PASS),
            (R_INLINE, FAIL),
            (G_STAR, FAIL),
            (G_SCOPED, PASS),
            (G_LOST, ERROR),
        ),
    ),
    account_scoped(
        ADMIN_POLICY,
        "a customer policy listed without its document is unknown, not harmless",
        {ROLES: [R_UNREAD], GROUPS: [], POLICIES: [UNREAD]},
        ids((R_UNREAD, ERROR)),
    ),
    account_scoped(
        ADMIN_POLICY, "only AWS managed policies", {ROLES: [R_AWS], GROUPS: [], POLICIES: []}, {ORG_SCOPE: NA}
    ),
]

TRUST = "aws.iam.role_trust"
OIDC = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
TRUSTED_ROLES = {
    "service": (trust({"Service": "ec2.amazonaws.com"}), PASS),
    "same-account": (trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}), PASS),
    "vendor-external-id": (
        trust({"AWS": f"arn:aws:iam::{OTHER}:root"}, condition={"StringEquals": {"sts:ExternalId": "x"}}),
        PASS,
    ),
    "vendor-open": (trust({"AWS": [f"arn:aws:iam::{ACCOUNT}:root", f"arn:aws:iam::{OTHER}:role/ci"]}), FAIL),
    "bare-account-id": (trust({"AWS": OTHER}), FAIL),
    "anyone": (trust("*"), FAIL),
    "anyone-in-org": (trust({"AWS": "*"}, condition={"StringEquals": {"aws:PrincipalOrgID": "o-1"}}), PASS),
    "saml": (
        trust({"Federated": f"arn:aws:iam::{ACCOUNT}:saml-provider/okta"}, action="sts:AssumeRoleWithSAML"),
        PASS,
    ),
    "github-any-repo": (
        trust(
            {"Federated": OIDC},
            action="sts:AssumeRoleWithWebIdentity",
            condition={"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}},
        ),
        FAIL,
    ),
    "github-one-repo": (
        trust(
            {"Federated": OIDC},
            action="sts:AssumeRoleWithWebIdentity",
            condition={"StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/app:*"}},
        ),
        PASS,
    ),
    "deny-only": ({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}]}, PASS),
    "vendor-glob": (trust({"AWS": f"arn:aws:iam::{OTHER}:root"}, action="sts:Assume*"), FAIL),
    "vendor-star-star": (trust({"AWS": f"arn:aws:iam::{OTHER}:root"}, action="*:*"), FAIL),
    "vendor-not-action": (
        {"Statement": [{"Effect": "Allow", "Principal": {"AWS": OTHER}, "NotAction": "s3:*"}]},
        FAIL,
    ),
    "github-any-subject": (
        trust(
            {"Federated": OIDC},
            action="sts:AssumeRoleWithWebIdentity",
            condition={"StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}},
        ),
        FAIL,
    ),
}
ROLE_RECORDS = {name: role(name, doc) for name, (doc, _) in TRUSTED_ROLES.items()}
NO_TRUST = role("no-trust")
NO_TRUST.data["AssumeRolePolicyDocument"] = None
SCENARIOS += [
    account_scoped(
        TRUST,
        "services, own account, ExternalId, org-bound and bound federation pass",
        {ROLES: list(ROLE_RECORDS.values())},
        {ROLE_RECORDS[n].resource_id: status for n, (_, status) in TRUSTED_ROLES.items()},
    ),
    account_scoped(
        TRUST,
        "trusted_accounts lets a sister account in",
        {ROLES: [ROLE_RECORDS["bare-account-id"]]},
        ids((ROLE_RECORDS["bare-account-id"], PASS)),
        params={"trusted_accounts": [OTHER]},
    ),
    account_scoped(
        TRUST,
        "a role listed without its trust policy is unknown",
        {ROLES: [NO_TRUST]},
        ids((NO_TRUST, ERROR)),
    ),
    account_scoped(TRUST, "no roles", {ROLES: []}, {ORG_SCOPE: NA}),
]
