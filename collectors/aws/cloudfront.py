"""CloudFront evidence, collected once per account (distributions are global): how viewers may
connect to each distribution and whether a WAF web ACL sits in front of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsAccount, aws_errors, fields, permissions

DAY = timedelta(hours=24)
LIST_DISTRIBUTIONS = Api("list_distributions", "cloudfront:ListDistributions")


def _distributions(client: Any) -> Iterator[dict[str, Any]]:
    """The listing nests its items one level down, and leaves them out of an empty page."""
    with aws_errors("cloudfront"):
        for page in client.get_paginator(LIST_DISTRIBUTIONS.method).paginate():
            yield from (page.get("DistributionList") or {}).get("Items") or []


def _distribution(dist: dict[str, Any]) -> dict[str, Any]:
    """Viewer protocol policy per cache behaviour, the viewer certificate's TLS floor, the web ACL."""
    behaviours = (dist.get("CacheBehaviors") or {}).get("Items") or []
    return {
        **fields(dist, "Id", "DomainName"),
        "DefaultCacheBehavior": fields(dist.get("DefaultCacheBehavior") or {}, "ViewerProtocolPolicy"),
        "CacheBehaviors": [fields(b, "PathPattern", "ViewerProtocolPolicy") for b in behaviours],
        "ViewerCertificate": fields(
            dist.get("ViewerCertificate") or {}, "CloudFrontDefaultCertificate", "MinimumProtocolVersion"
        ),
        "WebACLId": dist.get("WebACLId") or None,  # "" when none is associated
    }


@collector(
    "aws.cloudfront.distributions",
    scope="aws_account",
    freshness=DAY,
    permissions=permissions(LIST_DISTRIBUTIONS),
)
def distributions(ctx: AwsAccount) -> Iterator[Record]:
    """Every distribution with its viewer protocol policies, minimum TLS version and web ACL."""
    for dist in _distributions(ctx.client("cloudfront")):
        yield Record(resource_id=dist["ARN"], data=_distribution(dist))
