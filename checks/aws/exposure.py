"""AWS checks on network services and exposure: HTTPS and TLS on load balancers and CloudFront,
WAF in front of web endpoints, network ACLs, and snapshots and images shared with everyone."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result
from checks._judging import as_list, or_nothing_to_judge
from checks.aws.network import ALL_PROTOCOLS, TCP_UDP

LOAD_BALANCERS = "aws.elbv2.load_balancers"
DISTRIBUTIONS = "aws.cloudfront.distributions"
STAGES = "aws.apigateway.stages"
NETWORK_ACLS = "aws.ec2.network_acls"
EBS_SNAPSHOTS = "aws.ec2.snapshots"
IMAGES = "aws.ec2.images"
RDS_SNAPSHOTS = "aws.rds.snapshots"
HTTPS_VIEWERS = frozenset({"redirect-to-https", "https-only"})
WORLD_FAMILIES = (("0.0.0.0/0", "CidrBlock"), ("::/0", "Ipv6CidrBlock"))

IN_TRANSIT = "Plain HTTP sends the users' data and credentials readable to anyone on the path."
WAF = "A web application firewall filters the Internet's requests before they reach the application."
PUBLIC = "Anyone with an AWS account can copy it and read every byte of data it holds."
LEAK = "Public snapshots and images are a known route for data to leak out of an account."


def _judge(rec: Record, name: str, faults: Sequence[str], fine: str) -> Result:
    """Fail naming every fault, else pass saying what was found fine."""
    return Result.of(rec, passed=not faults, reason=f"{name}: {'; '.join(faults) if faults else fine}")


def _web_acl(rec: Record, name: str, acl: str | None) -> Result:
    return _judge(rec, name, [] if acl else ["no WAF web ACL is associated"], f"web ACL {acl}")


def _public(rec: Record, name: str, public: bool, who: str) -> Result:
    """Public when `who` ("anyone may launch it") holds; shared with named accounts is not public."""
    return _judge(rec, name, [who] if public else [], "not public")


def _lb(rec: Record) -> str:
    return f"{rec.data['LoadBalancerName']} ({rec.data.get('Type')})"


def _application(rec: Record) -> bool:
    return rec.data.get("Type") == "application"


# --- load balancers -------------------------------------------------------------------------------


def _plaintext(listener: Mapping[str, Any]) -> list[str]:
    """What an HTTP listener's rules do other than redirect to HTTPS or answer a fixed response."""
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
        yield _judge(lb, _lb(lb), faults, "every HTTP listener redirects to HTTPS, or there is none")


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
        yield _judge(lb, _lb(lb), [f"{f} (not in allowed_policies)" for f in faults], "; ".join(said))


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
        yield _web_acl(lb, _lb(lb), lb.data.get("WebACLArn"))


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
        yield _judge(lb, _lb(lb), [] if on else ["access logs are off"], "access logs are on")


# --- CloudFront -----------------------------------------------------------------------------------


def _cf(rec: Record) -> str:
    return f"{rec.data['Id']} ({rec.data.get('DomainName')})"


@check(
    "aws.cloudfront.viewer_https",
    title="CloudFront distributions serve viewers over HTTPS only",
    controls={
        "A.8.24": IN_TRANSIT,
        "A.8.20": "The distribution is the network edge viewers connect to.",
        "A.5.14": "Information sent between viewers and the distribution travels encrypted.",
    },
    severity="major",
    needs=[DISTRIBUTIONS],
    rationale="A cache behaviour that allows HTTP serves content and cookies readable on the path.",
    remediation="Set every cache behaviour's viewer protocol policy to redirect-to-https or https-only.",
)
@or_nothing_to_judge("CloudFront distributions")
def cloudfront_viewer_https(ev: Evidence) -> Iterator[Result]:
    """The default and every other cache behaviour must redirect to HTTPS or require it."""
    for dist in ev.records(DISTRIBUTIONS):
        behaviours = [
            ("default", (dist.data.get("DefaultCacheBehavior") or {}).get("ViewerProtocolPolicy")),
            *(
                (b.get("PathPattern"), b.get("ViewerProtocolPolicy"))
                for b in dist.data.get("CacheBehaviors") or []
            ),
        ]
        faults = [
            f"cache behaviour {path} allows HTTP ({policy})"
            for path, policy in behaviours
            if policy not in HTTPS_VIEWERS
        ]
        yield _judge(dist, _cf(dist), faults, "every cache behaviour requires HTTPS")


@check(
    "aws.cloudfront.tls_version",
    title="CloudFront distributions accept only current TLS versions",
    controls={
        "A.8.24": "The minimum protocol version sets the TLS versions that protect viewers' traffic.",
        "A.8.21": "The minimum TLS version viewers may use is a security mechanism of the delivery network service.",
    },
    severity="minor",
    needs=[DISTRIBUTIONS],
    rationale="TLS 1.0 and 1.1 are deprecated; accepting them allows downgrades to broken versions.",
    remediation="Serve the distribution on its own domain with an ACM certificate and a security policy of "
    "TLSv1.2_2021 or newer (the default *.cloudfront.net certificate always accepts TLSv1).",
    params={"allowed_protocols": ["TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"]},
)
@or_nothing_to_judge("CloudFront distributions")
def cloudfront_tls_version(ev: Evidence) -> Iterator[Result]:
    """A custom certificate's minimum protocol version must be one of `allowed_protocols`."""
    allowed = as_list(ev.param("allowed_protocols"), "allowed_protocols")
    for dist in ev.records(DISTRIBUTIONS):
        cert = dist.data.get("ViewerCertificate") or {}
        version = cert.get("MinimumProtocolVersion")
        if cert.get("CloudFrontDefaultCertificate"):
            faults = ["uses the default CloudFront certificate, which accepts TLSv1"]
        else:
            faults = [] if version in allowed else [f"minimum protocol {version} is not in allowed_protocols"]
        yield _judge(dist, _cf(dist), faults, f"minimum protocol {version}")


@check(
    "aws.cloudfront.waf_web_acl",
    title="CloudFront distributions are behind a WAF web ACL",
    controls={
        "A.8.20": WAF,
        "A.8.26": "A web ACL protects the applications the distribution serves against common web attacks.",
    },
    severity="minor",
    needs=[DISTRIBUTIONS],
    rationale="Without a WAF, injection, scanning and bot traffic pass through the CDN to the origin.",
    remediation="Associate an AWS WAF web ACL (scope CLOUDFRONT) with the distribution.",
)
@or_nothing_to_judge("CloudFront distributions")
def cloudfront_waf_web_acl(ev: Evidence) -> Iterator[Result]:
    """Each distribution must name a web ACL."""
    for dist in ev.records(DISTRIBUTIONS):
        yield _web_acl(dist, _cf(dist), dist.data.get("WebACLId"))


# --- API Gateway ----------------------------------------------------------------------------------


def _stage(rec: Record) -> str:
    return f"{rec.data.get('name')} ({rec.data['restApiId']}) stage {rec.data['stageName']}"


@check(
    "aws.apigateway.stage_waf_web_acl",
    title="Public API Gateway REST API stages are behind a WAF web ACL",
    controls={
        "A.8.20": WAF,
        "A.8.26": "A web ACL protects the API against common web attacks and abusive request rates.",
    },
    severity="minor",
    needs=[STAGES],
    rationale="Without a WAF, injection, scanning and abusive clients reach the API's backends unfiltered.",
    remediation="Associate an AWS WAF web ACL with the stage.",
)
@or_nothing_to_judge("API Gateway REST API stages")
def apigateway_stage_waf_web_acl(ev: Evidence) -> Iterator[Result]:
    """Stages of edge-optimised and regional APIs need a web ACL; private APIs are reached only from VPCs."""
    for stage in ev.records(STAGES):
        if stage.data.get("endpointTypes") == ["PRIVATE"]:
            yield Result.not_applicable(stage, f"{_stage(stage)} belongs to a private API")
            continue
        yield _web_acl(stage, _stage(stage), stage.data.get("webAclArn"))


@check(
    "aws.apigateway.stage_access_logging",
    title="API Gateway REST API stages log access",
    controls={"A.8.15": "Access logs are the event log of who called which API method, and when."},
    severity="minor",
    needs=[STAGES],
    rationale="Without access logs, abuse of an API cannot be traced to a caller or scoped.",
    remediation="Turn on access logging for the stage, to a CloudWatch Logs group or Firehose stream.",
)
@or_nothing_to_judge("API Gateway REST API stages")
def apigateway_stage_access_logging(ev: Evidence) -> Iterator[Result]:
    """Each stage must send access logs somewhere."""
    for stage in ev.records(STAGES):
        where = stage.data.get("accessLogDestination")
        yield _judge(
            stage, _stage(stage), [] if where else ["access logging is off"], f"access logs to {where}"
        )


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
        yield _judge(acl, name, faults, f"admits none of ports {', '.join(map(str, ports))} from anywhere")


# --- snapshots and images -------------------------------------------------------------------------


@check(
    "aws.ec2.snapshot_not_public",
    title="No EBS snapshot is public",
    controls={"A.8.3": PUBLIC, "A.8.12": LEAK},
    severity="major",
    needs=[EBS_SNAPSHOTS],
    rationale="A public snapshot lets any AWS account create a volume holding a full copy of the disk.",
    remediation="Remove the 'all' group from the snapshot's create-volume permissions (and turn on EBS "
    "block public access for snapshots in the region).",
)
@or_nothing_to_judge("EBS snapshots")
def snapshot_not_public(ev: Evidence) -> Iterator[Result]:
    """A snapshot fails when its create-volume permissions include the group `all`."""
    for snap in ev.records(EBS_SNAPSHOTS):
        public = any(p.get("Group") == "all" for p in snap.data.get("CreateVolumePermissions") or [])
        yield _public(snap, snap.data["SnapshotId"], public, "anyone may create volumes from it")


@check(
    "aws.rds.snapshot_not_public",
    title="No RDS snapshot is public",
    controls={"A.8.3": PUBLIC, "A.8.12": LEAK},
    severity="major",
    needs=[RDS_SNAPSHOTS],
    rationale="A public DB snapshot lets any AWS account restore a full copy of the database.",
    remediation="Remove 'all' from the snapshot's restore attribute; share with named accounts if needed.",
)
@or_nothing_to_judge("manual RDS snapshots")
def rds_snapshot_not_public(ev: Evidence) -> Iterator[Result]:
    """A DB or DB cluster snapshot fails when `all` may restore it."""
    for snap in ev.records(RDS_SNAPSHOTS):
        name = snap.data.get("DBSnapshotIdentifier") or snap.data.get("DBClusterSnapshotIdentifier")
        yield _public(snap, str(name), "all" in (snap.data.get("restore") or []), "anyone may restore it")


@check(
    "aws.ec2.image_not_public",
    title="No AMI owned by the account is public",
    controls={"A.8.3": PUBLIC, "A.8.12": LEAK},
    severity="major",
    needs=[IMAGES],
    rationale="A public AMI lets anyone launch a copy of the server, with whatever secrets and data it holds.",
    remediation="Remove the public launch permission from the image (and turn on block public access for "
    "AMIs in the region).",
)
@or_nothing_to_judge("AMIs")
def image_not_public(ev: Evidence) -> Iterator[Result]:
    """An image fails when it has public launch permissions."""
    for image in ev.records(IMAGES):
        name = f"{image.data['ImageId']} ({image.data.get('Name')})"
        yield _public(image, name, bool(image.data.get("Public")), "anyone may launch it")
