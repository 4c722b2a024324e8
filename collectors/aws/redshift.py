"""Redshift evidence, per region: each provisioned cluster's encryption, public accessibility, audit
logging, and whether its parameter group makes it refuse connections without SSL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.concurrency import ordered_map
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, flags, permissions

DAY = timedelta(hours=24)
CLUSTERS = Api("describe_clusters", "redshift:DescribeClusters", items="Clusters")
LOGGING_STATUS = Api("describe_logging_status", "redshift:DescribeLoggingStatus")
PARAMETERS = Api("describe_cluster_parameters", "redshift:DescribeClusterParameters", items="Parameters")
REQUIRE_SSL = "require_ssl"


def _require_ssl(client: Any, group: str) -> str | None:
    """The group's require_ssl as AWS states it ("true" or "false"), None if the group lists none."""
    listed = PARAMETERS.pages(client, ParameterGroupName=group)
    return next((p.get("ParameterValue") for p in listed if p.get("ParameterName") == REQUIRE_SSL), None)


def _require_ssl_by_group(client: Any, listed: list[dict[str, Any]], workers: int) -> dict[str, str | None]:
    """require_ssl of each parameter group the clusters name, each group read once: clusters share them."""
    names = sorted({g["ParameterGroupName"] for c in listed for g in c.get("ClusterParameterGroups") or []})
    values = ordered_map(names, lambda group: _require_ssl(client, group), workers, "redshift-groups")
    return dict(zip(names, values, strict=True))


def _cluster(cluster: dict[str, Any], logging: dict[str, Any], ssl: dict[str, str | None]) -> dict[str, Any]:
    groups = cluster.get("ClusterParameterGroups") or []
    return {
        **fields(cluster, "ClusterIdentifier", "ClusterStatus", "KmsKeyId"),
        **flags(cluster, "Encrypted", "PubliclyAccessible"),
        **flags(logging, "LoggingEnabled"),
        "LogDestinationType": logging.get("LogDestinationType") or None,  # s3 or cloudwatch, when logging
        "ClusterParameterGroups": [
            {
                **fields(g, "ParameterGroupName", "ParameterApplyStatus"),
                REQUIRE_SSL: ssl[g["ParameterGroupName"]],
            }
            for g in groups
        ],
    }


@collector(
    "aws.redshift.clusters",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(CLUSTERS, LOGGING_STATUS, PARAMETERS),
)
def clusters(ctx: AwsRegion) -> Iterator[Record]:
    """Clusters with encryption at rest, KMS key, whether they accept connections from the Internet,
    their audit logging, and each parameter group's require_ssl with whether the group is applied
    (`ParameterApplyStatus`: a change pending a reboot is not yet in force)."""
    client = ctx.client("redshift")
    workers = ctx.account.settings.detail_concurrency
    listed = list(CLUSTERS.pages(client))
    ssl = _require_ssl_by_group(client, listed, workers)

    def read(cluster: dict[str, Any]) -> Record:
        name = cluster["ClusterIdentifier"]
        logging = LOGGING_STATUS(client, ClusterIdentifier=name)
        return Record(
            resource_id=ctx.arn("redshift", f"cluster:{name}"), data=_cluster(cluster, logging, ssl)
        )

    yield from ordered_map(listed, read, workers, "redshift")
