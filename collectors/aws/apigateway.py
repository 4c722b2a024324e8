"""API Gateway evidence, per region: every stage of every REST API, with its endpoint type,
WAF web ACL and access-log destination.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, permissions

DAY = timedelta(hours=24)
# API Gateway's IAM actions are the HTTP verbs of its management API, scoped by resource path.
# `apigateway:GET` on "*" would also read API keys' values, so the policy grants it on these only.
READ_RESOURCES = ("arn:aws:apigateway:*::/restapis", "arn:aws:apigateway:*::/restapis/*/stages")
REST_APIS = Api("get_rest_apis", "apigateway:GET", items="items")
STAGES = Api("get_stages", "apigateway:GET")


def _stage(api: dict[str, Any], stage: dict[str, Any]) -> dict[str, Any]:
    return {
        "restApiId": api["id"],
        **fields(api, "name"),
        "endpointTypes": (api.get("endpointConfiguration") or {}).get("types") or [],
        **fields(stage, "stageName", "webAclArn"),
        "accessLogDestination": (stage.get("accessLogSettings") or {}).get("destinationArn"),
    }


@collector(
    "aws.apigateway.stages", scope="aws_region", freshness=DAY, permissions=permissions(REST_APIS, STAGES)
)
def stages(ctx: AwsRegion) -> Iterator[Record]:
    """REST API stages (named by their ARN, which carries no account): web ACL and access logging."""
    client = ctx.client("apigateway")
    partition = ctx.account.partition
    for api in REST_APIS.pages(client):
        for stage in STAGES(client, restApiId=api["id"]).get("item", []):
            yield Record(
                resource_id=f"arn:{partition}:apigateway:{ctx.region}::/restapis/{api['id']}/stages/{stage['stageName']}",
                data=_stage(api, stage),
            )
