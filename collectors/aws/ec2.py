"""EC2 and VPC evidence, per region: security groups, volumes, EBS default encryption, VPCs with
their flow logs, and instances' metadata-service settings; each resource with its tags (the
listings return them).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, permissions, tags

DAY = timedelta(hours=24)
SECURITY_GROUPS = Api("describe_security_groups", "ec2:DescribeSecurityGroups", items="SecurityGroups")
VOLUMES = Api("describe_volumes", "ec2:DescribeVolumes", items="Volumes")
EBS_ENCRYPTION_DEFAULT = Api("get_ebs_encryption_by_default", "ec2:GetEbsEncryptionByDefault")
FLOW_LOGS = Api("describe_flow_logs", "ec2:DescribeFlowLogs", items="FlowLogs")
VPCS = Api("describe_vpcs", "ec2:DescribeVpcs", items="Vpcs")
INSTANCES = Api("describe_instances", "ec2:DescribeInstances", items="Reservations")


def _rules(permissions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ingress rules reduced to what network checks judge: protocol, ports and sources."""
    return [
        {
            **fields(p, "IpProtocol", "FromPort", "ToPort"),
            "Cidrs": [r["CidrIp"] for r in p.get("IpRanges", [])],
            "Ipv6Cidrs": [r["CidrIpv6"] for r in p.get("Ipv6Ranges", [])],
            "Groups": [g["GroupId"] for g in p.get("UserIdGroupPairs", []) if "GroupId" in g],
            "PrefixLists": [pl["PrefixListId"] for pl in p.get("PrefixListIds", [])],
        }
        for p in permissions
    ]


def _security_group(sg: dict[str, Any]) -> dict[str, Any]:
    """A group with its ingress and egress rules, reduced as `_rules` says."""
    return {
        "GroupId": sg["GroupId"],
        **fields(sg, "GroupName", "VpcId"),
        "Ingress": _rules(sg.get("IpPermissions", [])),
        "Egress": _rules(sg.get("IpPermissionsEgress", [])),
        "Tags": tags(sg),
    }


@collector(
    "aws.ec2.security_groups", scope="aws_region", freshness=DAY, permissions=permissions(SECURITY_GROUPS)
)
def security_groups(ctx: AwsRegion) -> Iterator[Record]:
    """Security groups with their ingress and egress rules."""
    yield from SECURITY_GROUPS.records(
        ctx.client("ec2"), lambda sg: ctx.arn("ec2", f"security-group/{sg['GroupId']}"), _security_group
    )


def _volume(vol: dict[str, Any]) -> dict[str, Any]:
    """A volume's encryption and key, its state and the instances it is attached to."""
    return {
        "VolumeId": vol["VolumeId"],
        "Encrypted": bool(vol.get("Encrypted")),
        **fields(vol, "KmsKeyId", "State"),
        "Attachments": [a["InstanceId"] for a in vol.get("Attachments", [])],
        "Tags": tags(vol),
    }


@collector("aws.ec2.volumes", scope="aws_region", freshness=DAY, permissions=permissions(VOLUMES))
def volumes(ctx: AwsRegion) -> Iterator[Record]:
    """EBS volumes: encryption, key and attachment."""
    yield from VOLUMES.records(
        ctx.client("ec2"), lambda vol: ctx.arn("ec2", f"volume/{vol['VolumeId']}"), _volume
    )


@collector(
    "aws.ec2.ebs_encryption_default",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(EBS_ENCRYPTION_DEFAULT),
)
def ebs_encryption_default(ctx: AwsRegion) -> Iterator[Record]:
    """Whether new EBS volumes in the region are encrypted by default."""
    resp = EBS_ENCRYPTION_DEFAULT(ctx.client("ec2"))
    yield Record(
        resource_id=ctx.arn("ec2", "ebs-encryption-by-default"),
        data={"EbsEncryptionByDefault": bool(resp.get("EbsEncryptionByDefault"))},
    )


@collector(
    "aws.ec2.vpcs",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(VPCS, FLOW_LOGS),
)
def vpcs(ctx: AwsRegion) -> Iterator[Record]:
    """VPCs with the flow logs attached to each (a VPC-level flow log covers all its traffic)."""
    ec2 = ctx.client("ec2")
    flow_logs: dict[str, list[dict[str, Any]]] = {}
    for fl in FLOW_LOGS.pages(ec2):
        flow_logs.setdefault(fl.get("ResourceId", ""), []).append(
            {
                "FlowLogId": fl["FlowLogId"],
                "TrafficType": fl.get("TrafficType"),
                "Status": fl.get("FlowLogStatus"),
            }
        )
    for vpc in VPCS.pages(ec2):
        yield Record(
            resource_id=ctx.arn("ec2", f"vpc/{vpc['VpcId']}"),
            data={
                "VpcId": vpc["VpcId"],
                "IsDefault": bool(vpc.get("IsDefault")),
                "FlowLogs": flow_logs.get(vpc["VpcId"], []),
                "Tags": tags(vpc),
            },
        )


@collector("aws.ec2.instances", scope="aws_region", freshness=DAY, permissions=permissions(INSTANCES))
def instances(ctx: AwsRegion) -> Iterator[Record]:
    """Instances with their state and instance metadata service options."""
    for reservation in INSTANCES.pages(ctx.client("ec2")):
        for inst in reservation.get("Instances", []):
            yield Record(
                resource_id=ctx.arn("ec2", f"instance/{inst['InstanceId']}"),
                data={
                    "InstanceId": inst["InstanceId"],
                    "State": inst.get("State", {}).get("Name"),
                    **fields(inst.get("MetadataOptions", {}), "HttpTokens", "HttpEndpoint"),
                    "Tags": tags(inst),
                },
            )
