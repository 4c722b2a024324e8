"""Redshift evidence, per region: each provisioned cluster's encryption and public accessibility."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, flags, permissions

DAY = timedelta(hours=24)
CLUSTERS = Api("describe_clusters", "redshift:DescribeClusters", items="Clusters")


def _cluster(cluster: dict[str, Any]) -> dict[str, Any]:
    return {
        **fields(cluster, "ClusterIdentifier", "ClusterStatus", "KmsKeyId"),
        **flags(cluster, "Encrypted", "PubliclyAccessible"),
    }


@collector("aws.redshift.clusters", scope="aws_region", freshness=DAY, permissions=permissions(CLUSTERS))
def clusters(ctx: AwsRegion) -> Iterator[Record]:
    """Clusters with encryption at rest, KMS key and whether they accept connections from the Internet."""
    yield from CLUSTERS.records(
        ctx.client("redshift"),
        lambda c: ctx.arn("redshift", f"cluster:{c['ClusterIdentifier']}"),
        _cluster,
    )
