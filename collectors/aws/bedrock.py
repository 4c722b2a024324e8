"""Bedrock evidence, per region: whether models are invoked there and, if so, where invocations are logged.

"Used" means CloudWatch lists a Bedrock `Invocations` metric, which it does for any metric with
data in the last two weeks: on-demand, provisioned and custom models all publish it. The logging
configuration is read only in such regions, so no call reaches a region where Bedrock is not
offered, and a region idle for two weeks reads as unused.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.cloudwatch import LIST_METRICS
from collectors.aws.session import Api, AwsRegion, fields, permissions

DAY = timedelta(hours=24)
INVOCATION_LOGGING = Api(
    "get_model_invocation_logging_configuration", "bedrock:GetModelInvocationLoggingConfiguration"
)


def _destinations(config: dict[str, Any]) -> dict[str, Any]:
    """Where invocation logs go (a CloudWatch log group, an S3 bucket) and which data is logged."""
    return {
        "cloudWatchLogGroup": (config.get("cloudWatchConfig") or {}).get("logGroupName"),
        "s3Bucket": (config.get("s3Config") or {}).get("bucketName"),
        **fields(
            config, "textDataDeliveryEnabled", "imageDataDeliveryEnabled", "embeddingDataDeliveryEnabled"
        ),
    }


@collector(
    "aws.bedrock.invocation_logging",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(LIST_METRICS, INVOCATION_LOGGING),
)
def invocation_logging(ctx: AwsRegion) -> Iterator[Record]:
    """One record per region: `invoked`, and where invoked the logging configuration (None: off)."""
    metrics = LIST_METRICS.pages(ctx.client("cloudwatch"), Namespace="AWS/Bedrock", MetricName="Invocations")
    invoked = next(metrics, None) is not None
    data: dict[str, Any] = {"invoked": invoked}
    if invoked:
        config = (INVOCATION_LOGGING(ctx.client("bedrock")) or {}).get("loggingConfig")
        data["loggingConfig"] = _destinations(config) if config else None
    yield Record(resource_id=ctx.arn("bedrock", "model-invocation-logging"), data=data)
