"""Systems Manager evidence, per region: managed nodes and the patch state Patch Manager last
reported for each (a node never scanned has none, which is evidence too).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, iso, permissions

DAY = timedelta(hours=24)
NODES = Api(
    "describe_instance_information", "ssm:DescribeInstanceInformation", items="InstanceInformationList"
)
PATCH_STATES = Api(
    "describe_instance_patch_states", "ssm:DescribeInstancePatchStates", items="InstancePatchStates"
)
PATCH_STATE_BATCH = 50  # DescribeInstancePatchStates takes at most 50 instance ids
COUNTS = (
    "MissingCount",
    "FailedCount",
    "InstalledPendingRebootCount",
    "InstalledRejectedCount",
    "CriticalNonCompliantCount",
    "SecurityNonCompliantCount",
)


def _patch_state(state: dict[str, Any]) -> dict[str, Any]:
    return {
        **fields(state, "BaselineId", "Operation", *COUNTS),
        "OperationEndTime": iso(state.get("OperationEndTime")),
    }


def _resource_id(ctx: AwsRegion, node: dict[str, Any]) -> str:
    """EC2 instances by their instance ARN; on-premises nodes (`mi-...`) as SSM managed instances."""
    node_id = node["InstanceId"]
    if node.get("ResourceType") == "EC2Instance":
        return ctx.arn("ec2", f"instance/{node_id}")
    return ctx.arn("ssm", f"managed-instance/{node_id}")


@collector(
    "aws.ssm.managed_instances",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(NODES, PATCH_STATES),
)
def managed_instances(ctx: AwsRegion) -> Iterator[Record]:
    """Managed nodes with their agent's ping status and Patch Manager's last scan or install result."""
    client = ctx.client("ssm")
    nodes = list(NODES.pages(client))
    states: dict[str, dict[str, Any]] = {}
    for start in range(0, len(nodes), PATCH_STATE_BATCH):
        batch = [n["InstanceId"] for n in nodes[start : start + PATCH_STATE_BATCH]]
        for state in PATCH_STATES.pages(client, InstanceIds=batch):
            states[state["InstanceId"]] = _patch_state(state)
    for node in nodes:
        yield Record(
            resource_id=_resource_id(ctx, node),
            data={
                **fields(node, "InstanceId", "PingStatus", "PlatformType", "ResourceType"),
                "PatchState": states.get(node["InstanceId"]),
            },
        )
