"""AWS checks on network services and exposure: HTTPS, TLS and WAF on load balancers, network ACLs,
and snapshots and images shared with everyone (CloudFront and API Gateway: edge.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result
from checks._judging import as_list, or_nothing_to_judge
from checks.aws._common import WAF, judge_faults, web_acl
from checks.aws.network import ALL_PROTOCOLS, TCP_UDP

LOAD_BALANCERS = "aws.elbv2.load_balancers"
NETWORK_ACLS = "aws.ec2.network_acls"
EBS_SNAPSHOTS = "aws.ec2.snapshots"
IMAGES = "aws.ec2.images"
RDS_SNAPSHOTS = "aws.rds.snapshots"
WORLD_FAMILIES = (("0.0.0.0/0", "CidrBlock"), ("::/0", "Ipv6CidrBlock"))

PUBLIC = "Anyone with an AWS account can copy it and read every byte of data it holds."
LEAK = "Public snapshots and images are a known route for data to leak out of an account."


def _lb(rec: Record) -> str:
    return f"{rec.data['LoadBalancerName']} ({rec.data.get('Type')})"


def _application(rec: Record) -> bool:
    return rec.data.get("Type") == "application"


# --- load balancers -------------------------------------------------------------------------------


def _plaintext(listener: Mapping[str, Any]) -> list[str]:
    """What an HTTP listener's rules do other than redirect to HTTPS or answer a fixed response."""
    if not listener.get("Actions"):  # every listener has a default action: none listed is unknown
        return ["actions not collected"]
    done = set()
    for action in listener.get("Actions") or []:
        kind, to = action.get("Type"), action.get("RedirectProtocol")
        if kind == "redirect" and to != "HTTPS":
            done.add(f"redirect to {to}")
        elif kind not in ("redirect", "fixed-response"):
            done.add(str(kind))
    return sorted(done)


@check(
    "aws.elbv2.http_redirects_to_https",
    title="Application load balancers answer HTTP only with a redirect to HTTPS",
    controls={
        "A.5.14": "Information sent to the service travels encrypted, never in plain HTTP.",
        "A.8.24": "Encrypting traffic in transit is the cryptography web traffic needs.",
        "A.8.20": "The load balancer is the network edge that decides what the Internet may reach in clear.",
    },
    severity="major",
    needs=[LOAD_BALANCERS],
    rationale="A listener that forwards plain HTTP carries sessions and credentials readable on the path.",
    remediation="Make every HTTP listener's rules redirect to HTTPS (HTTP 301) and serve the application "
    "only on an HTTPS listener.",
)
@or_nothing_to_judge("load balancers")
def elbv2_http_redirects_to_https(ev: Evidence) -> Iterator[Result]:
    """Every rule of every HTTP listener of an ALB must redirect to HTTPS (or answer a fixed response);
    network and gateway load balancers pass TCP through and are not judged."""
    for lb in ev.records(LOAD_BALANCERS):
        if not _application(lb):
            yield Result.not_applicable(lb, f"{_lb(lb)} does not terminate HTTP")
            continue
        faults = [
            f"HTTP listener on port {listener.get('Port')} does not redirect to HTTPS ({', '.join(actions)})"
            for listener in lb.data.get("Listeners") or []
            if listener.get("Protocol") == "HTTP" and (actions := _plaintext(listener))
        ]
        yield judge_faults(lb, _lb(lb), faults, "every HTTP listener redirects to HTTPS, or there is none")


@check(
    "aws.elbv2.tls_policy",
    title="Load balancer HTTPS and TLS listeners use a current TLS policy",
    controls={
        "A.8.21": "The TLS versions and ciphers a load balancer offers are the security mechanism of that network service.",
        "A.8.24": "The security policy sets the TLS versions and ciphers that protect data in transit.",
    },
    severity="minor",
    needs=[LOAD_BALANCERS],
    rationale="Policies that still accept TLS 1.0 or 1.1 allow downgrades to broken protocol versions.",
    remediation="Set the listener's security policy to ELBSecurityPolicy-TLS13-1-2-2021-06 or newer.",
    params={
        "allowed_policies": [
            "ELBSecurityPolicy-TLS13-1-2-*",
            "ELBSecurityPolicy-TLS13-1-3-*",
            "ELBSecurityPolicy-TLS-1-2-*",
            "ELBSecurityPolicy-FS-1-2-*",
        ]
    },
)
@or_nothing_to_judge("load balancers")
def elbv2_tls_policy(ev: Evidence) -> Iterator[Result]:
    """Each HTTPS or TLS listener's policy must match one of `allowed_policies` (globs, `*` wildcard)."""
    allowed = as_list(ev.param("allowed_policies"), "allowed_policies")
    for lb in ev.records(LOAD_BALANCERS):
        secure = [x for x in lb.data.get("Listeners") or [] if x.get("Protocol") in ("HTTPS", "TLS")]
        if not secure:
            yield Result.not_applicable(lb, f"{_lb(lb)} has no HTTPS or TLS listener")
            continue
        said = [f"{x['Protocol']}:{x.get('Port')} uses {x.get('SslPolicy') or 'no policy'}" for x in secure]
        faults = [
            text
            for x, text in zip(secure, said, strict=True)
            if not any(fnmatchcase(str(x.get("SslPolicy") or ""), p) for p in allowed)
        ]
        yield judge_faults(lb, _lb(lb), [f"{f} (not in allowed_policies)" for f in faults], "; ".join(said))


@check(
    "aws.elbv2.waf_web_acl",
    title="Internet-facing application load balancers are behind a WAF web ACL",
    controls={
        "A.8.20": WAF,
        "A.8.26": "A web ACL protects the application behind the load balancer against common web attacks.",
    },
    severity="minor",
    needs=[LOAD_BALANCERS],
    rationale="Without a WAF, injection, scanning and bot traffic reach the application unfiltered.",
    remediation="Associate an AWS WAF web ACL (with the AWS managed core rule set at least) with the load "
    "balancer.",
)
@or_nothing_to_judge("load balancers")
def elbv2_waf_web_acl(ev: Evidence) -> Iterator[Result]:
    """Internet-facing ALBs need a web ACL; internal and non-HTTP load balancers are not judged (a
    scheme AWS did not state is judged as Internet-facing)."""
    for lb in ev.records(LOAD_BALANCERS):
        if not _application(lb) or lb.data.get("Scheme") == "internal":  # unknown scheme: judged
            yield Result.not_applicable(lb, f"{_lb(lb)} is not an Internet-facing application load balancer")
            continue
        yield web_acl(lb, _lb(lb), lb.data.get("WebACLArn"))


@check(
    "aws.elbv2.multi_az",
    title="Load balancers span several availability zones",
    controls={
        "A.8.14": "Nodes in more than one zone are the redundancy that keeps the entry point up.",
        "A.5.29": "Spanning zones keeps the service, and its security controls, running through a zone outage.",
    },
    severity="ofi",
    needs=[LOAD_BALANCERS],
    rationale="A load balancer in one zone takes every service behind it down with that zone.",
    remediation="Enable the load balancer in subnets of at least the required number of zones.",
    params={"min_zones": 2},
)
@or_nothing_to_judge("load balancers")
def elbv2_multi_az(ev: Evidence) -> Iterator[Result]:
    """Each load balancer must be enabled in at least `min_zones` availability zones."""
    limit = int(ev.param("min_zones"))
    for lb in ev.records(LOAD_BALANCERS):
        zones = lb.data.get("AvailabilityZones") or []
        said = f"{len(zones)} zone(s) {', '.join(zones) or 'none'} (minimum {limit})"
        yield Result.of(lb, passed=len(zones) >= limit, reason=f"{_lb(lb)}: {said}")


@check(
    "aws.elbv2.access_logging",
    title="Application load balancers log requests",
    controls={"A.8.15": "Access logs are the event log of every request the application received."},
    severity="minor",
    needs=[LOAD_BALANCERS],
    rationale="Without access logs an attack through the load balancer cannot be traced or scoped.",
    remediation="Enable access logs on the load balancer (attribute access_logs.s3.enabled) to an S3 bucket.",
)
@or_nothing_to_judge("load balancers")
def elbv2_access_logging(ev: Evidence) -> Iterator[Result]:
    """Each ALB must have access logs on; network and gateway load balancers log no requests."""
    for lb in ev.records(LOAD_BALANCERS):
        if not _application(lb):
            yield Result.not_applicable(lb, f"{_lb(lb)} has no request log")
            continue
        on = (lb.data.get("Attributes") or {}).get("access_logs.s3.enabled") == "true"
        yield judge_faults(lb, _lb(lb), [] if on else ["access logs are off"], "access logs are on")


# --- network ACLs ---------------------------------------------------------------------------------


def _nacl_covers(entry: Mapping[str, Any], port: int) -> bool:
    proto = str(entry.get("Protocol"))
    if proto in ALL_PROTOCOLS:
        return True
    ports = entry.get("PortRange") or {}
    return proto in TCP_UDP and int(ports.get("From", -1)) <= port <= int(ports.get("To", -1))


def _open_from_world(entries: Sequence[Mapping[str, Any]], port: int) -> list[str]:
    """For each of IPv4 and IPv6 "anywhere", the first rule (by number) reaching `port` decides."""
    ordered = sorted(entries, key=lambda e: int(e.get("RuleNumber") or 0))
    found = []
    for world, key in WORLD_FAMILIES:
        first = next((e for e in ordered if e.get(key) == world and _nacl_covers(e, port)), None)
        if first is not None and first.get("RuleAction") == "allow":
            found.append(f"port {port} from {world} (rule {first.get('RuleNumber')})")
    return found


@check(
    "aws.ec2.network_acl_admin_ports",
    title="No network ACL admits administration ports from the Internet",
    controls={
        "A.8.20": "Network ACLs are the subnet-level network control in front of every host in the subnet.",
        "A.8.22": "Subnets reachable from anywhere on admin ports are not segregated from the Internet.",
    },
    severity="minor",
    needs=[NETWORK_ACLS],
    rationale="With the ACL open, one security group mistake exposes SSH or RDP to the whole Internet.",
    remediation="Add inbound deny rules for the admin ports from 0.0.0.0/0 and ::/0, numbered before any "
    "allow-all rule, and reach hosts through Session Manager, a VPN or known addresses.",
    params={"ports": [22, 3389]},
)
@or_nothing_to_judge("network ACLs")
def network_acl_admin_ports(ev: Evidence) -> Iterator[Result]:
    """Fail each ACL in use whose rules let `ports` in from 0.0.0.0/0 or ::/0; unassociated ACLs guard nothing."""
    ports = [int(p) for p in ev.param("ports")]
    for acl in ev.records(NETWORK_ACLS):
        name = f"{acl.data['NetworkAclId']} of {acl.data.get('VpcId')}"
        if not acl.data.get("SubnetIds"):
            yield Result.not_applicable(acl, f"{name} is associated with no subnet")
            continue
        faults = [
            f"allows {hit}" for port in ports for hit in _open_from_world(acl.data.get("Ingress") or [], port)
        ]
        yield judge_faults(
            acl, name, faults, f"admits none of ports {', '.join(map(str, ports))} from anywhere"
        )


# --- snapshots and images -------------------------------------------------------------------------


def _ebs_snapshot(rec: Record) -> tuple[str, bool]:
    """Public when its create-volume permissions include the group `all`."""
    grants = rec.data.get("CreateVolumePermissions") or []
    return str(rec.data["SnapshotId"]), any(p.get("Group") == "all" for p in grants)


def _rds_snapshot(rec: Record) -> tuple[str, bool]:
    """A DB or DB cluster snapshot is public when `all` may restore it."""
    name = rec.data.get("DBSnapshotIdentifier") or rec.data.get("DBClusterSnapshotIdentifier")
    return str(name), "all" in (rec.data.get("restore") or [])


def _image(rec: Record) -> tuple[str, bool]:
    """An image is public when it has public launch permissions."""
    return f"{rec.data['ImageId']} ({rec.data.get('Name')})", bool(rec.data.get("Public"))


# Copies anyone may take: check id, title, source, what, read (name, public), who may, rationale, remediation.
NOT_PUBLIC = (
    ("aws.ec2.snapshot_not_public", "No EBS snapshot is public", EBS_SNAPSHOTS, "EBS snapshots", _ebs_snapshot,
     "anyone may create volumes from it",
     "A public snapshot lets any AWS account create a volume holding a full copy of the disk.",
     "Remove the 'all' group from the snapshot's create-volume permissions (and turn on EBS block public "
     "access for snapshots in the region)."),
    ("aws.rds.snapshot_not_public", "No RDS snapshot is public", RDS_SNAPSHOTS, "manual RDS snapshots",
     _rds_snapshot, "anyone may restore it",
     "A public DB snapshot lets any AWS account restore a full copy of the database.",
     "Remove 'all' from the snapshot's restore attribute; share with named accounts if needed."),
    ("aws.ec2.image_not_public", "No AMI owned by the account is public", IMAGES, "AMIs", _image,
     "anyone may launch it",
     "A public AMI lets anyone launch a copy of the server, with whatever secrets and data it holds.",
     "Remove the public launch permission from the image (and turn on block public access for AMIs in the "
     "region)."),
)  # fmt: skip


def _not_public(
    source: str, what: str, read: Callable[[Record], tuple[str, bool]], who: str
) -> Callable[[Evidence], Iterator[Result]]:
    @or_nothing_to_judge(what)
    def judge(ev: Evidence) -> Iterator[Result]:
        for rec in ev.records(source):
            name, public = read(rec)
            yield judge_faults(rec, name, [who] if public else [], "not public")

    judge.__doc__ = read.__doc__
    return judge


for check_id, title, source, what, read, who, rationale, remediation in NOT_PUBLIC:
    check(check_id, title=title, controls={"A.8.3": PUBLIC, "A.8.12": LEAK}, severity="major",
          needs=[source], rationale=rationale, remediation=remediation)(_not_public(source, what, read, who))  # fmt: skip
