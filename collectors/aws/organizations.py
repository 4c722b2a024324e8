"""AWS Organizations evidence, read once from the caller's (management) account: member accounts
with the organizational units they sit in, and service control policies with their targets.

An account outside any Organization is recorded as such; a member account that may not read
the Organization fails with access denied, never as "no policies".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from operator import itemgetter
from typing import Any

from agent.errors import InputDataError
from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsAccount, fields, iso, permissions

DAY = timedelta(hours=24)
SCP = "SERVICE_CONTROL_POLICY"
DESCRIBE_ORGANIZATION = Api(
    "describe_organization",
    "organizations:DescribeOrganization",
    absent=("AWSOrganizationsNotInUseException",),
)
LIST_ACCOUNTS = Api("list_accounts", "organizations:ListAccounts", items="Accounts")
LIST_ROOTS = Api("list_roots", "organizations:ListRoots", items="Roots")
CHILD_UNITS = Api(
    "list_organizational_units_for_parent",
    "organizations:ListOrganizationalUnitsForParent",
    items="OrganizationalUnits",
)
CHILD_ACCOUNTS = Api("list_accounts_for_parent", "organizations:ListAccountsForParent", items="Accounts")
LIST_POLICIES = Api("list_policies", "organizations:ListPolicies", items="Policies")
DESCRIBE_POLICY = Api("describe_policy", "organizations:DescribePolicy")
POLICY_TARGETS = Api("list_targets_for_policy", "organizations:ListTargetsForPolicy", items="Targets")


def _organization(ctx: AwsAccount) -> dict[str, Any] | None:
    resp = DESCRIBE_ORGANIZATION(ctx.client("organizations"))
    return None if resp is None else resp["Organization"]


def _placements(client: Any) -> dict[str, list[dict[str, Any]]]:
    """Each account's organizational units, outermost first, from one walk of the tree: a listing
    per unit rather than a lookup per account."""
    placed: dict[str, list[dict[str, Any]]] = {}
    pending: list[tuple[str, list[dict[str, Any]]]] = [(r["Id"], []) for r in LIST_ROOTS.pages(client)]
    while pending:
        parent, path = pending.pop()
        for acct in CHILD_ACCOUNTS.pages(client, ParentId=parent):
            placed[acct["Id"]] = path
        for unit in CHILD_UNITS.pages(client, ParentId=parent):
            pending.append((unit["Id"], [*path, fields(unit, "Id", "Name")]))
    return placed


def _account(acct: dict[str, Any], placed: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """A member account, its state (`State`, or the older `Status` where only that is sent) and its
    organizational units (None for an account that joined while the tree was being walked)."""
    return {
        "Id": acct["Id"],
        "State": acct.get("State") or acct.get("Status"),
        "JoinedTimestamp": iso(acct.get("JoinedTimestamp")),
        **fields(acct, "Name", "JoinedMethod"),
        "OrganizationalUnits": placed.get(acct["Id"]),
    }


@collector(
    "aws.organizations.accounts",
    scope="aws_organization",
    freshness=DAY,
    permissions=permissions(DESCRIBE_ORGANIZATION, LIST_ROOTS, CHILD_ACCOUNTS, CHILD_UNITS, LIST_ACCOUNTS),
)
def accounts(ctx: AwsAccount) -> Iterator[Record]:
    """Member accounts, their state and organizational units: the inventory of cloud accounts the
    audit must cover, and where each sits (production or not, as configured for the checks)."""
    if _organization(ctx) is None:
        return
    client = ctx.client("organizations")
    placed = _placements(client)
    yield from LIST_ACCOUNTS.records(client, itemgetter("Arn"), lambda acct: _account(acct, placed))


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
    permissions=permissions(
        DESCRIBE_ORGANIZATION, LIST_ROOTS, LIST_POLICIES, DESCRIBE_POLICY, POLICY_TARGETS
    ),
)
def policies(ctx: AwsAccount) -> Iterator[Record]:
    """The organization (roots with their enabled policy types) and every SCP with its targets."""
    org = _organization(ctx)
    if org is None:
        yield Record(resource_id=ctx.arn("organizations", "", "organization"), data={"InOrganization": False})
        return
    client = ctx.client("organizations")
    roots = list(LIST_ROOTS.pages(client))
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
    for summary in LIST_POLICIES.pages(client, Filter=SCP):
        content = DESCRIBE_POLICY(client, PolicyId=summary["Id"])["Policy"]["Content"]
        targets = POLICY_TARGETS.pages(client, PolicyId=summary["Id"])
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
