"""AWS Organizations evidence, read once from the caller's (management) account: member accounts
and service control policies with their targets.

An account outside any Organization is recorded as such; a member account that may not read
the Organization fails with access denied, never as "no policies".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.errors import InputDataError
from agent.model import Record
from agent.registry import collector
from collectors.aws.session import AwsAccount, aws_errors, call, iso, paginate

DAY = timedelta(hours=24)
NOT_IN_USE = ("AWSOrganizationsNotInUseException",)
SCP = "SERVICE_CONTROL_POLICY"


def _organization(ctx: AwsAccount) -> dict[str, Any] | None:
    resp = call(ctx.client("organizations"), "describe_organization", NOT_IN_USE)
    return None if resp is None else resp["Organization"]


@collector(
    "aws.organizations.accounts",
    scope="aws_organization",
    freshness=DAY,
    permissions=["organizations:DescribeOrganization", "organizations:ListAccounts"],
)
def accounts(ctx: AwsAccount) -> Iterator[Record]:
    """Member accounts and their state: the inventory of cloud accounts the audit must cover."""
    if _organization(ctx) is None:
        return
    for acct in paginate(ctx.client("organizations"), "list_accounts", "Accounts"):
        yield Record(
            resource_id=acct["Arn"],
            data={
                "Id": acct["Id"],
                "Name": acct.get("Name"),
                "State": acct.get("State") or acct.get("Status"),
                "JoinedMethod": acct.get("JoinedMethod"),
                "JoinedTimestamp": iso(acct.get("JoinedTimestamp")),
            },
        )


def _content(policy_id: str, raw: str) -> dict[str, Any]:
    try:
        doc = json.loads(raw)
    except ValueError:
        raise InputDataError(f"organizations: policy {policy_id} content is not JSON") from None
    if not isinstance(doc, dict):
        raise InputDataError(f"organizations: policy {policy_id} content is not a JSON object")
    return doc


@collector(
    "aws.organizations.policies",
    scope="aws_organization",
    freshness=DAY,
    permissions=[
        "organizations:DescribeOrganization",
        "organizations:ListRoots",
        "organizations:ListPolicies",
        "organizations:DescribePolicy",
        "organizations:ListTargetsForPolicy",
    ],
)
def policies(ctx: AwsAccount) -> Iterator[Record]:
    """The organization (roots with their enabled policy types) and every SCP with its targets."""
    org = _organization(ctx)
    if org is None:
        yield Record(resource_id=ctx.arn("organizations", "", "organization"), data={"InOrganization": False})
        return
    client = ctx.client("organizations")
    roots = list(paginate(client, "list_roots", "Roots"))
    yield Record(
        resource_id=org["Arn"],
        data={
            "InOrganization": True,
            "Id": org["Id"],
            "FeatureSet": org.get("FeatureSet"),
            "ManagementAccountId": org.get("MasterAccountId"),
            "ScpEnabledRoots": [
                r["Id"]
                for r in roots
                if any(t["Type"] == SCP and t["Status"] == "ENABLED" for t in r.get("PolicyTypes", []))
            ],
        },
    )
    for summary in paginate(client, "list_policies", "Policies", Filter=SCP):
        with aws_errors("organizations"):
            content = client.describe_policy(PolicyId=summary["Id"])["Policy"]["Content"]
        targets = paginate(client, "list_targets_for_policy", "Targets", PolicyId=summary["Id"])
        yield Record(
            resource_id=summary["Arn"],
            data={
                "Id": summary["Id"],
                "Name": summary.get("Name"),
                "AwsManaged": bool(summary.get("AwsManaged")),
                "Content": _content(summary["Id"], content),
                "Targets": [{"TargetId": t["TargetId"], "Type": t["Type"]} for t in targets],
            },
        )
