"""SQS evidence, per region: each queue's server-side encryption (SSE-KMS or SSE-SQS)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from agent.plugin import collector
from agent.plugin.concurrency import ordered_map
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, permissions

DAY = timedelta(hours=24)
QUEUES = Api("list_queues", "sqs:ListQueues", items="QueueUrls")
QUEUE_ATTRIBUTES = Api("get_queue_attributes", "sqs:GetQueueAttributes")
ATTRIBUTES = ["QueueArn", "KmsMasterKeyId", "SqsManagedSseEnabled"]


@collector(
    "aws.sqs.queues", scope="aws_region", freshness=DAY, permissions=permissions(QUEUES, QUEUE_ATTRIBUTES)
)
def queues(ctx: AwsRegion) -> Iterator[Record]:
    """Queues with their KMS key (SSE-KMS) and whether SQS-managed encryption (SSE-SQS) is on."""
    sqs = ctx.client("sqs")

    def read(url: str) -> dict[str, str]:
        answer: dict[str, str] = QUEUE_ATTRIBUTES(sqs, QueueUrl=url, AttributeNames=ATTRIBUTES)["Attributes"]
        return answer

    for attributes in ordered_map(QUEUES.pages(sqs), read, ctx.account.settings.detail_concurrency, "sqs"):
        arn = attributes["QueueArn"]
        yield Record(
            resource_id=arn,
            data={
                "QueueName": arn.rsplit(":", 1)[-1],
                "KmsMasterKeyId": attributes.get("KmsMasterKeyId"),
                "SqsManagedSseEnabled": attributes.get("SqsManagedSseEnabled") == "true",
            },
        )
