"""IAM evidence: credential report, account summary, password policy, users, roles, groups and local
policies.

Everything comes from account-wide bulk APIs, so the cost does not grow with per-user calls.
User tags are deliberately left out: they often hold personal data the audit does not need.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import (
    GENERATE_CREDENTIAL_REPORT,
    GET_CREDENTIAL_REPORT,
    Api,
    AwsAccount,
    iso,
    paginate,
    permissions,
    tags,
)

DAY = timedelta(hours=24)
ACCOUNT_SUMMARY = Api("get_account_summary", "iam:GetAccountSummary")
PASSWORD_POLICY = Api("get_account_password_policy", "iam:GetAccountPasswordPolicy", absent=("NoSuchEntity",))
AUTH_DETAILS = Api("get_account_authorization_details", "iam:GetAccountAuthorizationDetails")


def _document(doc: str | dict[str, Any]) -> dict[str, Any]:
    """boto3 decodes IAM's URL-encoded policy JSON; decode it ourselves if it ever arrives raw."""
    if isinstance(doc, str):
        decoded: dict[str, Any] = json.loads(unquote(doc))
        return decoded
    return doc


def _authorization_details(ctx: AwsAccount, kind: str, key: str) -> Iterator[dict[str, Any]]:
    return paginate(ctx.client("iam"), AUTH_DETAILS.method, key, Filter=[kind])


def _grants(entity: dict[str, Any], inline: str) -> dict[str, Any]:
    """A user's, role's or group's attached managed policies and its inline policies (under `inline`)."""
    return {
        "AttachedManagedPolicies": [
            {"PolicyName": p["PolicyName"], "PolicyArn": p["PolicyArn"]}
            for p in entity.get("AttachedManagedPolicies", [])
        ],
        inline: [
            {"PolicyName": p["PolicyName"], "PolicyDocument": _document(p["PolicyDocument"])}
            for p in entity.get(inline, [])
        ],
    }


@collector(
    "aws.iam.credential_report",
    scope="aws_account",
    freshness=DAY,
    permissions=permissions(GENERATE_CREDENTIAL_REPORT, GET_CREDENTIAL_REPORT),
)
def credential_report(ctx: AwsAccount) -> Iterator[Record]:
    """One row per IAM user (and the root user): passwords, MFA, access keys and their last use."""
    for row in ctx.credential_report():
        yield Record(resource_id=row["arn"], data=row)


@collector(
    "aws.iam.account_summary", scope="aws_account", freshness=DAY, permissions=permissions(ACCOUNT_SUMMARY)
)
def account_summary(ctx: AwsAccount) -> Iterator[Record]:
    """Account-wide IAM counters, including whether the root user has MFA or access keys."""
    summary = ACCOUNT_SUMMARY(ctx.client("iam"))["SummaryMap"]
    yield Record(resource_id=f"arn:{ctx.partition}:iam::{ctx.account_id}:root", data=dict(summary))


@collector(
    "aws.iam.password_policy",
    scope="aws_account",
    freshness=DAY,
    permissions=permissions(PASSWORD_POLICY),
)
def password_policy(ctx: AwsAccount) -> Iterator[Record]:
    """The account password policy; its absence is evidence too (AWS defaults apply)."""
    resp = PASSWORD_POLICY(ctx.client("iam"))
    data = {"present": False} if resp is None else {"present": True, **resp["PasswordPolicy"]}
    yield Record(resource_id=f"arn:{ctx.partition}:iam::{ctx.account_id}:password-policy", data=data)


@collector("aws.iam.users", scope="aws_account", freshness=DAY, permissions=permissions(AUTH_DETAILS))
def users(ctx: AwsAccount) -> Iterator[Record]:
    """IAM users with their groups, directly attached and inline policies, and permissions boundary.
    Not their tags: on a user they describe a person (names, e-mail addresses), and no check needs them."""
    for user in _authorization_details(ctx, "User", "UserDetailList"):
        yield Record(
            resource_id=user["Arn"],
            data={
                "UserName": user["UserName"],
                "UserId": user["UserId"],
                "Arn": user["Arn"],
                "CreateDate": iso(user["CreateDate"]),
                "GroupList": list(user.get("GroupList", [])),
                **_grants(user, "UserPolicyList"),
                "PermissionsBoundary": user.get("PermissionsBoundary"),
            },
        )


@collector("aws.iam.roles", scope="aws_account", freshness=DAY, permissions=permissions(AUTH_DETAILS))
def roles(ctx: AwsAccount) -> Iterator[Record]:
    """IAM roles with their trust policy (who may assume them), attached and inline policies, and
    tags (the inventory reads a role's owner and classification from them)."""
    for role in _authorization_details(ctx, "Role", "RoleDetailList"):
        trust = role.get("AssumeRolePolicyDocument")
        yield Record(
            resource_id=role["Arn"],
            data={
                "RoleName": role["RoleName"],
                "Arn": role["Arn"],
                "Path": role.get("Path", "/"),
                "AssumeRolePolicyDocument": _document(trust) if trust else None,
                **_grants(role, "RolePolicyList"),
                "Tags": tags(role),
            },
        )


@collector("aws.iam.groups", scope="aws_account", freshness=DAY, permissions=permissions(AUTH_DETAILS))
def groups(ctx: AwsAccount) -> Iterator[Record]:
    """IAM groups with their attached and inline policies (what every member user receives)."""
    for group in _authorization_details(ctx, "Group", "GroupDetailList"):
        yield Record(
            resource_id=group["Arn"],
            data={"GroupName": group["GroupName"], "Arn": group["Arn"], **_grants(group, "GroupPolicyList")},
        )


@collector("aws.iam.policies", scope="aws_account", freshness=DAY, permissions=permissions(AUTH_DETAILS))
def policies(ctx: AwsAccount) -> Iterator[Record]:
    """Customer managed policies with the document of their default version.

    The name falls back to the ARN's last segment: some implementations (moto) omit PolicyName here.
    """
    for policy in _authorization_details(ctx, "LocalManagedPolicy", "Policies"):
        default = next((v for v in policy.get("PolicyVersionList", []) if v.get("IsDefaultVersion")), None)
        yield Record(
            resource_id=policy["Arn"],
            data={
                "PolicyName": policy.get("PolicyName") or policy["Arn"].rsplit("/", 1)[-1],
                "Arn": policy["Arn"],
                "AttachmentCount": policy.get("AttachmentCount", 0),
                "IsAttachable": policy.get("IsAttachable", True),
                "DefaultVersionDocument": _document(default["Document"]) if default else None,
            },
        )
