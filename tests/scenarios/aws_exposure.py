"""Scenarios for the AWS exposure checks (load balancers, CloudFront, API Gateway, network ACLs,
snapshots, images), with records shaped exactly as the collectors emit them."""

from __future__ import annotations

from typing import Any

from agent.plugin.model import Record, Status
from tests.scenarios import FAIL, NA, PASS, Scenario
from tests.scenarios.aws_services import ACCOUNT, ACCOUNT_SCOPE, REGION, REGION_SCOPE, arn, ids

LB, CF, STAGES = "aws.elbv2.load_balancers", "aws.cloudfront.distributions", "aws.apigateway.stages"
NACLS, EBS, AMIS, RDS = "aws.ec2.network_acls", "aws.ec2.snapshots", "aws.ec2.images", "aws.rds.snapshots"
TLS13 = "ELBSecurityPolicy-TLS13-1-2-2021-06"
TO_HTTPS = {"Type": "redirect", "RedirectProtocol": "HTTPS"}


# --- record builders (defaults are the compliant shape) --------------------------------------------


def listener(protocol: str, port: int, policy: str | None = None, *actions: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"Port": port, "Protocol": protocol, "SslPolicy": policy}
    if protocol == "HTTP":
        data["Actions"] = list(actions)
    return data


def lb(name: str, kind: str = "application", *listeners: dict[str, Any], **data: Any) -> Record:
    base = {
        "LoadBalancerName": name,
        "Type": kind,
        "Scheme": "internet-facing",
        "AvailabilityZones": [f"{REGION}a", f"{REGION}b"],
        "Listeners": list(listeners) or [listener("HTTP", 80, None, TO_HTTPS), listener("HTTPS", 443, TLS13)],
        "Attributes": {"access_logs.s3.enabled": "true"},
        "WebACLArn": arn("wafv2", "regional/webacl/edge/1") if kind == "application" else None,
    }
    short = {"application": "app", "network": "net", "gateway": "gwy"}[kind]
    return Record(arn("elasticloadbalancing", f"loadbalancer/{short}/{name}/1"), base | data)


def distribution(
    did: str, *behaviours: tuple[str, str], default: str = "redirect-to-https", **data: Any
) -> Record:
    base = {
        "Id": did,
        "DomainName": f"{did.lower()}.cloudfront.net",
        "DefaultCacheBehavior": {"ViewerProtocolPolicy": default},
        "CacheBehaviors": [{"PathPattern": p, "ViewerProtocolPolicy": v} for p, v in behaviours],
        "ViewerCertificate": {
            "CloudFrontDefaultCertificate": False,
            "MinimumProtocolVersion": "TLSv1.2_2021",
        },
        "WebACLId": f"arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/cdn/1",
    }
    return Record(f"arn:aws:cloudfront::{ACCOUNT}:distribution/{did}", base | data)


def stage(api: str, name: str, **data: Any) -> Record:
    base = {
        "restApiId": api,
        "name": f"{api}-api",
        "endpointTypes": ["REGIONAL"],
        "stageName": name,
        "webAclArn": arn("wafv2", "regional/webacl/api/1"),
        "accessLogDestination": arn("logs", f"log-group:{api}"),
    }
    return Record(f"arn:aws:apigateway:{REGION}::/restapis/{api}/stages/{name}", base | data)


def entry(
    number: int, action: str, cidr: str, proto: str = "6", ports: tuple[int, int] | None = None
) -> dict[str, Any]:
    return {
        "RuleNumber": number,
        "Protocol": proto,
        "RuleAction": action,
        "CidrBlock": None if ":" in cidr else cidr,
        "Ipv6CidrBlock": cidr if ":" in cidr else None,
        "PortRange": {"From": ports[0], "To": ports[1]} if ports else None,
    }


ALLOW_ALL, DENY_ALL = entry(100, "allow", "0.0.0.0/0", "-1"), entry(32767, "deny", "0.0.0.0/0", "-1")


def nacl(acl_id: str, *ingress: dict[str, Any], subnets: tuple[str, ...] = ("subnet-1",)) -> Record:
    data = {
        "NetworkAclId": acl_id,
        "VpcId": "vpc-1",
        "IsDefault": False,
        "SubnetIds": list(subnets),
        "Ingress": [*ingress, DENY_ALL],
    }
    return Record(arn("ec2", f"network-acl/{acl_id}"), data)


def ebs_snapshot(sid: str, *permissions: dict[str, str], encrypted: bool = True) -> Record:
    data = {"SnapshotId": sid, "Encrypted": encrypted, "CreateVolumePermissions": list(permissions)}
    return Record(f"arn:aws:ec2:{REGION}::snapshot/{sid}", data)


def image(iid: str, public: bool = False) -> Record:
    return Record(
        f"arn:aws:ec2:{REGION}::image/{iid}", {"ImageId": iid, "Name": f"{iid}-build", "Public": public}
    )


def db_snapshot(name: str, *restore: str, cluster: bool = False) -> Record:
    kind = "DBCluster" if cluster else "DB"
    resource = f"{'cluster-snapshot' if cluster else 'snapshot'}:{name}"
    return Record(arn("rds", resource), {f"{kind}SnapshotIdentifier": name, "restore": list(restore)})


# --- scenarios -------------------------------------------------------------------------------------


def regional(
    check_id: str, name: str, source: str, records: list[Record], *pairs: tuple[Record, Status], **kw: Any
) -> Scenario:
    return Scenario(check_id, name, {source: records}, ids(*pairs), scope=REGION_SCOPE, **kw)


def nothing(check_id: str, source: str, scope: str = REGION_SCOPE) -> Scenario:
    return Scenario(check_id, "nothing to judge", {source: []}, {scope: NA}, scope=scope)


GOOD_ALB = lb("good")
NO_ACTIONS = lb("unread", "application", listener("HTTP", 80))
FORWARDS = lb(
    "plain",
    "application",
    listener("HTTP", 80, None, {"Type": "forward", "RedirectProtocol": None}),
    listener("HTTP", 8080, None, {"Type": "redirect", "RedirectProtocol": "#{protocol}"}),
    listener("HTTP", 81, None, {"Type": "fixed-response", "RedirectProtocol": None}, TO_HTTPS),
    listener("HTTPS", 443, "ELBSecurityPolicy-2016-08"),
    Scheme="internet-facing",
    WebACLArn=None,
    AvailabilityZones=[f"{REGION}a"],
    Attributes={"access_logs.s3.enabled": "false"},
)
INTERNAL = lb("internal", Scheme="internal", WebACLArn=None, Attributes={"access_logs.s3.enabled": None})
NLB = lb(
    "tcp", "network", listener("TCP", 5432), AvailabilityZones=[f"{REGION}a", f"{REGION}b", f"{REGION}c"]
)
NLB_TLS = lb(
    "tls", "network", listener("TLS", 443, "ELBSecurityPolicy-TLS-1-0-2015-04"), listener("TLS", 8443)
)
NLB_FS = lb("fs", "network", listener("TLS", 443, "ELBSecurityPolicy-FS-1-2-Res-2020-10"))
ALL_LBS = [GOOD_ALB, FORWARDS, INTERNAL, NLB, NLB_TLS, NLB_FS]

CF_GOOD = distribution("EGOOD", ("/api/*", "https-only"))
CF_HTTP = distribution("EHTTP", ("/img/*", "allow-all"), default="allow-all", WebACLId=None)
CF_DEFAULT_CERT = distribution(
    "EDEFAULT", ViewerCertificate={"CloudFrontDefaultCertificate": True, "MinimumProtocolVersion": "TLSv1"}
)
CF_OLD_TLS = distribution(
    "EOLD",
    ViewerCertificate={"CloudFrontDefaultCertificate": False, "MinimumProtocolVersion": "TLSv1.1_2016"},
)
CF_ALL = [CF_GOOD, CF_HTTP, CF_DEFAULT_CERT, CF_OLD_TLS]

STAGE_GOOD = stage("a1", "prod")
STAGE_BARE = stage("a1", "dev", webAclArn=None, accessLogDestination=None)
STAGE_PRIVATE = stage("p1", "prod", endpointTypes=["PRIVATE"], webAclArn=None)

NACL_DEFAULT = nacl("acl-default", ALLOW_ALL)
NACL_DENIES = nacl(
    "acl-deny",
    entry(10, "allow", "203.0.113.0/24", "6", (22, 22)),
    entry(50, "deny", "0.0.0.0/0", "6", (22, 22)),
    entry(60, "deny", "0.0.0.0/0", "6", (3389, 3389)),
    entry(70, "deny", "::/0", "-1"),
    ALLOW_ALL,
)
NACL_V6 = nacl(
    "acl-v6",
    entry(90, "allow", "::/0", "17", (3000, 4000)),
    entry(100, "allow", "0.0.0.0/0", "6", (443, 443)),
)
NACL_UNUSED = nacl("acl-unused", ALLOW_ALL, subnets=())
NACLS_ALL = [NACL_DEFAULT, NACL_DENIES, NACL_V6, NACL_UNUSED]

SNAP_PRIVATE, SNAP_SHARED, SNAP_PUBLIC = (
    ebs_snapshot("snap-private"),
    ebs_snapshot("snap-shared", {"UserId": "210987654321"}),
    ebs_snapshot("snap-public", {"Group": "all"}),
)
AMI_PRIVATE, AMI_PUBLIC = image("ami-private"), image("ami-public", public=True)
RDS_PRIVATE, RDS_SHARED, RDS_PUBLIC, CLUSTER_PUBLIC = (
    db_snapshot("nightly"),
    db_snapshot("shared", "210987654321"),
    db_snapshot("leaked", "all"),
    db_snapshot("aurora-leaked", "all", cluster=True),
)

SCENARIOS: list[Scenario] = [
    # Load balancers
    regional(
        "aws.elbv2.http_redirects_to_https", "redirects, forwards, fixed responses", LB, ALL_LBS,
        (GOOD_ALB, PASS), (FORWARDS, FAIL), (INTERNAL, PASS), (NLB, NA), (NLB_TLS, NA), (NLB_FS, NA),
    ),
    regional(
        "aws.elbv2.http_redirects_to_https", "an HTTP listener listed without its actions", LB, [NO_ACTIONS],
        (NO_ACTIONS, FAIL),
    ),
    nothing("aws.elbv2.http_redirects_to_https", LB),
    regional(
        "aws.elbv2.tls_policy", "current and legacy policies", LB, ALL_LBS,
        (GOOD_ALB, PASS), (FORWARDS, FAIL), (INTERNAL, PASS), (NLB, NA), (NLB_TLS, FAIL), (NLB_FS, PASS),
    ),
    regional(
        "aws.elbv2.tls_policy", "allowed_policies widened", LB, [FORWARDS], (FORWARDS, PASS),
        params={"allowed_policies": ["ELBSecurityPolicy-2016-08"]},
    ),
    nothing("aws.elbv2.tls_policy", LB),
    regional(
        "aws.elbv2.waf_web_acl", "internet-facing ALBs", LB, ALL_LBS,
        (GOOD_ALB, PASS), (FORWARDS, FAIL), (INTERNAL, NA), (NLB, NA), (NLB_TLS, NA), (NLB_FS, NA),
    ),
    nothing("aws.elbv2.waf_web_acl", LB),
    regional("aws.elbv2.multi_az", "one, two and three zones", LB, [GOOD_ALB, FORWARDS, NLB],
             (GOOD_ALB, PASS), (FORWARDS, FAIL), (NLB, PASS)),
    regional("aws.elbv2.multi_az", "min_zones 3", LB, [GOOD_ALB, NLB], (GOOD_ALB, FAIL), (NLB, PASS),
             params={"min_zones": 3}),
    nothing("aws.elbv2.multi_az", LB),
    regional(
        "aws.elbv2.access_logging", "on, off, unset, not an ALB", LB, [GOOD_ALB, FORWARDS, INTERNAL, NLB],
        (GOOD_ALB, PASS), (FORWARDS, FAIL), (INTERNAL, FAIL), (NLB, NA),
    ),
    nothing("aws.elbv2.access_logging", LB),
    # CloudFront (account-wide)
    Scenario("aws.cloudfront.viewer_https", "default and path behaviours", {CF: CF_ALL},
             ids((CF_GOOD, PASS), (CF_HTTP, FAIL), (CF_DEFAULT_CERT, PASS), (CF_OLD_TLS, PASS)), scope=ACCOUNT_SCOPE),
    Scenario("aws.cloudfront.viewer_https", "one path allows http",
             {CF: [distribution("EPATH", ("/legacy/*", "allow-all"))]},
             {f"arn:aws:cloudfront::{ACCOUNT}:distribution/EPATH": FAIL}, scope=ACCOUNT_SCOPE),
    nothing("aws.cloudfront.viewer_https", CF, ACCOUNT_SCOPE),
    Scenario("aws.cloudfront.tls_version", "custom, default certificate, old policy", {CF: CF_ALL},
             ids((CF_GOOD, PASS), (CF_HTTP, PASS), (CF_DEFAULT_CERT, FAIL), (CF_OLD_TLS, FAIL)), scope=ACCOUNT_SCOPE),
    Scenario("aws.cloudfront.tls_version", "allowed_protocols widened", {CF: [CF_OLD_TLS]}, ids((CF_OLD_TLS, PASS)),
             params={"allowed_protocols": ["TLSv1.1_2016"]}, scope=ACCOUNT_SCOPE),
    nothing("aws.cloudfront.tls_version", CF, ACCOUNT_SCOPE),
    Scenario("aws.cloudfront.waf_web_acl", "with and without", {CF: [CF_GOOD, CF_HTTP]},
             ids((CF_GOOD, PASS), (CF_HTTP, FAIL)), scope=ACCOUNT_SCOPE),
    nothing("aws.cloudfront.waf_web_acl", CF, ACCOUNT_SCOPE),
    # API Gateway
    regional("aws.apigateway.stage_waf_web_acl", "public and private APIs", STAGES,
             [STAGE_GOOD, STAGE_BARE, STAGE_PRIVATE], (STAGE_GOOD, PASS), (STAGE_BARE, FAIL), (STAGE_PRIVATE, NA)),
    nothing("aws.apigateway.stage_waf_web_acl", STAGES),
    regional("aws.apigateway.stage_access_logging", "on and off", STAGES, [STAGE_GOOD, STAGE_BARE],
             (STAGE_GOOD, PASS), (STAGE_BARE, FAIL)),
    nothing("aws.apigateway.stage_access_logging", STAGES),
    # Network ACLs
    regional(
        "aws.ec2.network_acl_admin_ports", "first matching rule decides", NACLS, NACLS_ALL,
        (NACL_DEFAULT, FAIL), (NACL_DENIES, PASS), (NACL_V6, FAIL), (NACL_UNUSED, NA),
    ),
    regional("aws.ec2.network_acl_admin_ports", "other ports", NACLS, [NACL_V6], (NACL_V6, PASS),
             params={"ports": [22]}),
    nothing("aws.ec2.network_acl_admin_ports", NACLS),
    # Snapshots and images
    regional("aws.ec2.snapshot_not_public", "private, shared, public", EBS, [SNAP_PRIVATE, SNAP_SHARED, SNAP_PUBLIC],
             (SNAP_PRIVATE, PASS), (SNAP_SHARED, PASS), (SNAP_PUBLIC, FAIL)),
    nothing("aws.ec2.snapshot_not_public", EBS),
    regional("aws.ec2.image_not_public", "private and public", AMIS, [AMI_PRIVATE, AMI_PUBLIC],
             (AMI_PRIVATE, PASS), (AMI_PUBLIC, FAIL)),
    nothing("aws.ec2.image_not_public", AMIS),
    regional("aws.rds.snapshot_not_public", "db and cluster snapshots", RDS,
             [RDS_PRIVATE, RDS_SHARED, RDS_PUBLIC, CLUSTER_PUBLIC],
             (RDS_PRIVATE, PASS), (RDS_SHARED, PASS), (RDS_PUBLIC, FAIL), (CLUSTER_PUBLIC, FAIL)),
    nothing("aws.rds.snapshot_not_public", RDS),
]  # fmt: skip
