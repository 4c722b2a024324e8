"""EKS evidence, per region: each cluster's control-plane logging, API endpoint exposure and
secrets encryption."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.concurrency import ordered_map
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, permissions

DAY = timedelta(hours=24)
CLUSTERS = Api("list_clusters", "eks:ListClusters", items="clusters")
DESCRIBE_CLUSTER = Api("describe_cluster", "eks:DescribeCluster")


def _cluster(cluster: dict[str, Any]) -> dict[str, Any]:
    """AWS groups log types into entries each enabled or not; the enabled types are what is judged."""
    logging = cluster.get("logging", {}).get("clusterLogging", [])
    vpc = cluster.get("resourcesVpcConfig", {})
    return {
        **fields(cluster, "name", "status", "version"),
        "enabledLogTypes": sorted(
            {t for entry in logging if entry.get("enabled") for t in entry.get("types", [])}
        ),
        **fields(vpc, "endpointPublicAccess", "endpointPrivateAccess", "publicAccessCidrs"),
        "encryptedResources": sorted(
            {r for config in cluster.get("encryptionConfig", []) for r in config.get("resources", [])}
        ),
    }


@collector(
    "aws.eks.clusters",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(CLUSTERS, DESCRIBE_CLUSTER),
)
def clusters(ctx: AwsRegion) -> Iterator[Record]:
    """Clusters with enabled control-plane log types, endpoint access and encrypted resources."""
    eks = ctx.client("eks")

    def read(name: str) -> Record:
        cluster = DESCRIBE_CLUSTER(eks, name=name)["cluster"]
        return Record(resource_id=cluster["arn"], data=_cluster(cluster))

    yield from ordered_map(CLUSTERS.pages(eks), read, ctx.account.settings.detail_concurrency, "eks")
