"""Route 53 Resolver evidence, per region: which VPCs have DNS query logging associated."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, permissions

DAY = timedelta(hours=24)
QUERY_LOG_ASSOCIATIONS = Api(
    "list_resolver_query_log_config_associations",
    "route53resolver:ListResolverQueryLogConfigAssociations",
    items="ResolverQueryLogConfigAssociations",
)


@collector(
    "aws.route53resolver.query_log_associations",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(QUERY_LOG_ASSOCIATIONS),
)
def query_log_associations(ctx: AwsRegion) -> Iterator[Record]:
    """One record per region listing its query log associations (VPC and status); none is evidence too."""

    def read(_: Any, association: dict[str, Any]) -> dict[str, Any]:
        return fields(association, "Id", "ResolverQueryLogConfigId", "ResourceId", "Status")

    yield ctx.listing(
        "route53resolver",
        "resolver-query-log-config-associations",
        "associations",
        QUERY_LOG_ASSOCIATIONS,
        read,
    )
