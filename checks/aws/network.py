"""AWS checks on network exposure: security groups, default groups, flow logs, IMDS, public databases."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Result
from checks._judging import flag, or_nothing_to_judge
from checks.aws._common import WORLD

SECURITY_GROUPS = "aws.ec2.security_groups"
VPCS = "aws.ec2.vpcs"
INSTANCES = "aws.ec2.instances"
DATABASES = "aws.rds.instances"
ALL_PROTOCOLS = frozenset({"-1", "all"})
TCP_UDP = frozenset({"tcp", "udp", "6", "17"})
LAST_PORT = 65535

INTERNET_EXPOSURE = "Ingress from anywhere removes the boundary between the Internet and the system."
NETWORK_CONTROL = "Security groups are the network controls protecting the systems they are attached to."


def _from_world(rule: Mapping[str, Any]) -> list[str]:
    return sorted(WORLD.intersection([*rule.get("Cidrs", []), *rule.get("Ipv6Cidrs", [])]))


def _covers(rule: Mapping[str, Any], port: int) -> bool:
    proto = str(rule.get("IpProtocol"))
    if proto in ALL_PROTOCOLS:
        return True
    low, high = rule.get("FromPort"), rule.get("ToPort")
    return proto in TCP_UDP and low is not None and high is not None and int(low) <= port <= int(high)


def _all_traffic(rule: Mapping[str, Any]) -> bool:
    if str(rule.get("IpProtocol")) in ALL_PROTOCOLS:
        return True
    return rule.get("FromPort") in (0, None) and rule.get("ToPort") in (LAST_PORT, None)


@check(
    "aws.ec2.security_group_admin_ports",
    title="No security group opens administration ports to the Internet",
    controls={"A.8.20": NETWORK_CONTROL, "A.8.22": INTERNET_EXPOSURE},
    severity="major",
    needs=[SECURITY_GROUPS],
    rationale="SSH and RDP open to 0.0.0.0/0 or ::/0 are scanned and brute-forced within minutes.",
    remediation="Remove the world-open rule; reach hosts through Session Manager, a VPN or a bastion "
    "restricted to known addresses.",
    params={"ports": [22, 3389]},
)
@or_nothing_to_judge("security groups")
def security_group_admin_ports(ev: Evidence) -> Iterator[Result]:
    """Fail each group with an ingress rule from anywhere covering one of `ports`."""
    ports = [int(p) for p in ev.param("ports")]
    for sg in ev.records(SECURITY_GROUPS):
        found = sorted(
            {
                f"{port} from {cidr}"
                for rule in sg.data.get("Ingress") or []
                for cidr in _from_world(rule)
                for port in ports
                if _covers(rule, port)
            }
        )
        name = f"{sg.data['GroupId']} ({sg.data.get('GroupName')})"
        reason = (
            f"{name} allows port {', '.join(found)}" if found else f"{name} opens no admin port to anywhere"
        )
        yield Result.of(sg, passed=not found, reason=reason)


@check(
    "aws.ec2.security_group_all_traffic",
    title="No security group allows all traffic from the Internet",
    controls={"A.8.20": NETWORK_CONTROL, "A.8.22": INTERNET_EXPOSURE},
    severity="major",
    needs=[SECURITY_GROUPS],
    rationale="All protocols and ports open to anywhere exposes every service on the attached hosts.",
    remediation="Replace the rule with the specific ports the service needs, from the sources that need them.",
)
@or_nothing_to_judge("security groups")
def security_group_all_traffic(ev: Evidence) -> Iterator[Result]:
    """Fail each group with an ingress rule from anywhere for all protocols or all ports."""
    for sg in ev.records(SECURITY_GROUPS):
        found = sorted(
            {
                cidr
                for rule in sg.data.get("Ingress") or []
                if _all_traffic(rule)
                for cidr in _from_world(rule)
            }
        )
        name = f"{sg.data['GroupId']} ({sg.data.get('GroupName')})"
        reason = (
            f"{name} allows all traffic from {', '.join(found)}"
            if found
            else (f"{name} allows no all-traffic rule from anywhere")
        )
        yield Result.of(sg, passed=not found, reason=reason)


@check(
    "aws.ec2.default_security_group_closed",
    title="Default security groups allow no traffic",
    controls={
        "A.8.22": "The default group lets every member reach every other, defeating segregation in the VPC.",
        "A.8.9": "A closed default group is the secure baseline configuration for new resources.",
    },
    severity="minor",
    needs=[SECURITY_GROUPS],
    rationale="Resources launched without a chosen group land in the default one and inherit its rules.",
    remediation="Delete every inbound and outbound rule of the VPC's default security group.",
)
@or_nothing_to_judge("default security groups")
def default_security_group_closed(ev: Evidence) -> Iterator[Result]:
    """Each VPC's default group must have no ingress and no egress rules."""
    for sg in ev.records(SECURITY_GROUPS):
        if sg.data.get("GroupName") != "default":
            continue
        rules = len(sg.data.get("Ingress") or []) + len(sg.data.get("Egress") or [])
        where = f"default group {sg.data['GroupId']} of {sg.data.get('VpcId')}"
        yield Result.of(
            sg, passed=not rules, reason=f"{where} has {rules} rules" if rules else f"{where} has no rules"
        )


@check(
    "aws.ec2.vpc_flow_logs",
    title="VPC flow logs are enabled",
    controls={
        "A.8.15": "Flow logs are the event log of network traffic in and out of the VPC.",
        "A.8.16": "Network monitoring for anomalous traffic needs flow records to analyse.",
    },
    severity="minor",
    needs=[VPCS],
    rationale="Without flow logs, exfiltration or lateral movement leaves no network trace to investigate.",
    remediation="Create a flow log for the VPC (all traffic) to CloudWatch Logs or S3.",
)
@or_nothing_to_judge("VPCs")
def vpc_flow_logs(ev: Evidence) -> Iterator[Result]:
    """Each VPC needs an active flow log."""
    for vpc in ev.records(VPCS):
        active = [
            f["FlowLogId"] for f in vpc.data.get("FlowLogs") or [] if f.get("Status") in ("ACTIVE", None)
        ]
        vid = vpc.data["VpcId"]
        reason = f"{vid} has flow log {', '.join(active)}" if active else f"{vid} has no active flow log"
        yield Result.of(vpc, passed=bool(active), reason=reason)


@check(
    "aws.ec2.instance_imdsv2",
    title="EC2 instances require IMDSv2",
    controls={
        "A.8.9": "Requiring session tokens on the metadata service is part of a hardened instance configuration.",
    },
    severity="minor",
    needs=[INSTANCES],
    rationale="IMDSv1 lets a server-side request forgery steal the instance role's credentials.",
    remediation="Set the instance's metadata options to HttpTokens=required (and make it the account default).",
)
@or_nothing_to_judge("EC2 instances")
def instance_imdsv2(ev: Evidence) -> Iterator[Result]:
    """Running or stopped instances must require tokens, or have the metadata endpoint off."""
    for inst in ev.records(INSTANCES):
        iid = inst.data["InstanceId"]
        if inst.data.get("State") in ("terminated", "shutting-down"):
            yield Result.not_applicable(inst, f"{iid} is {inst.data['State']}")
        elif inst.data.get("HttpEndpoint") == "disabled":
            yield Result.of(inst, passed=True, reason=f"{iid} has the metadata endpoint disabled")
        else:
            tokens = inst.data.get("HttpTokens")
            yield Result.of(
                inst, passed=tokens == "required", reason=f"{iid}: metadata tokens {tokens or 'unknown'}"
            )


@check(
    "aws.rds.not_publicly_accessible",
    title="RDS databases are not publicly accessible",
    controls={
        "A.8.20": "A public endpoint exposes the database service directly to the Internet.",
        "A.8.22": "Databases belong in private subnets, segregated from Internet-facing tiers.",
    },
    severity="major",
    needs=[DATABASES],
    rationale="A publicly accessible database is one weak password or unpatched flaw away from a breach.",
    remediation="Modify the instance to turn off public accessibility and place it in private subnets.",
)
@or_nothing_to_judge("RDS instances")
def rds_not_publicly_accessible(ev: Evidence) -> Iterator[Result]:
    """Every DB instance must have public accessibility off."""
    judge = flag(
        "PubliclyAccessible",
        lambda db, public: (
            f"{db.data['DBInstanceIdentifier']} is {'' if public else 'not '}publicly accessible"
        ),
        good=False,
    )
    yield from map(judge, ev.records(DATABASES))
