"""Account Management evidence, once per account: the alternate security contact."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsAccount, permissions

DAY = timedelta(hours=24)
ALTERNATE_CONTACT = Api(
    "get_alternate_contact", "account:GetAlternateContact", absent=("ResourceNotFoundException",)
)


@collector(
    "aws.account.security_contact",
    scope="aws_account",
    freshness=DAY,
    permissions=permissions(ALTERNATE_CONTACT),
)
def security_contact(ctx: AwsAccount) -> Iterator[Record]:
    """Whether a security contact is set; its name, e-mail and phone are personal data and left out."""
    resp = ALTERNATE_CONTACT(ctx.client("account"), AlternateContactType="SECURITY")
    yield Record(
        resource_id=ctx.arn("account", "", "alternate-contact/security"),
        data={"Present": resp is not None and bool(resp.get("AlternateContact", {}).get("EmailAddress"))},
    )
