"""Account Management evidence, once per account: the alternate security contact."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from agent.model import Record
from agent.registry import collector
from collectors.aws.session import AwsAccount, call

DAY = timedelta(hours=24)
NOT_SET = ("ResourceNotFoundException",)


@collector(
    "aws.account.security_contact",
    scope="aws_account",
    freshness=DAY,
    permissions=["account:GetAlternateContact"],
)
def security_contact(ctx: AwsAccount) -> Iterator[Record]:
    """Whether a security contact is set; its name, e-mail and phone are personal data and left out."""
    resp = call(ctx.client("account"), "get_alternate_contact", NOT_SET, AlternateContactType="SECURITY")
    yield Record(
        resource_id=ctx.arn("account", "", "alternate-contact/security"),
        data={"Present": resp is not None and bool(resp.get("AlternateContact", {}).get("EmailAddress"))},
    )
