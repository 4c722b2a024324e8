"""SNS evidence, per region: each topic's KMS key for server-side encryption."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from agent.plugin import collector
from agent.plugin.concurrency import ordered_map
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, permissions

DAY = timedelta(hours=24)
TOPICS = Api("list_topics", "sns:ListTopics", items="Topics")
TOPIC_ATTRIBUTES = Api("get_topic_attributes", "sns:GetTopicAttributes")


@collector(
    "aws.sns.topics", scope="aws_region", freshness=DAY, permissions=permissions(TOPICS, TOPIC_ATTRIBUTES)
)
def topics(ctx: AwsRegion) -> Iterator[Record]:
    """Topics with their KMS key; SNS encrypts at rest only when a key is set."""
    sns = ctx.client("sns")

    def read(topic: dict[str, str]) -> Record:
        arn = topic["TopicArn"]
        attributes = TOPIC_ATTRIBUTES(sns, TopicArn=arn)["Attributes"]
        data = {"TopicName": arn.rsplit(":", 1)[-1], "KmsMasterKeyId": attributes.get("KmsMasterKeyId")}
        return Record(resource_id=arn, data=data)

    yield from ordered_map(TOPICS.pages(sns), read, ctx.account.settings.detail_concurrency, "sns")
