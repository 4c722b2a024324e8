"""Amazon Inspector evidence, per region: which resource types the account has scanning enabled for."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from agent.errors import InputDataError
from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, permissions

DAY = timedelta(hours=24)
ACCOUNT_STATUS = Api("batch_get_account_status", "inspector2:BatchGetAccountStatus")


@collector(
    "aws.inspector.status",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(ACCOUNT_STATUS),
)
def status(ctx: AwsRegion) -> Iterator[Record]:
    """The account's Inspector status and per-resource-type scanning state in the region."""
    resp = ACCOUNT_STATUS(ctx.client("inspector2"), accountIds=[ctx.account_id])
    mine = [a for a in resp.get("accounts", []) if a.get("accountId") == ctx.account_id]
    failed = [f for f in resp.get("failedAccounts", []) if f.get("accountId") == ctx.account_id]
    if failed:
        raise InputDataError(f"inspector2: no status for {ctx.account_id}: {failed[0].get('errorCode')}")
    state = mine[0] if mine else {}
    yield Record(
        resource_id=ctx.arn("inspector2", "account-status"),
        data={
            "Status": state.get("state", {}).get("status", "DISABLED"),
            "ResourceStatus": {k: v.get("status") for k, v in state.get("resourceState", {}).items()},
        },
    )
