"""Network services and exposure for the seeded organization (tests/aws_org_seed.py): a good load
balancer, API stage, snapshot and image in region 0, bad ones in region 1, one CloudFront
distribution per region (the service is global: both land in the account scope), and the default
network ACL closed to admin ports in region 0 only.

No resource here shows up in another source: the DB instance behind the snapshot is deleted once
snapshotted, the image is registered without an instance, and no listener needs a certificate
(ACM has its own checks). moto always reports CloudFront's default certificate, so
every distribution fails the TLS version check.
"""

from __future__ import annotations

from typing import Any

from tests.aws_org_seed import FAIL, NA, PASS, WORLD, SeededOrg

ADMIN_PORTS = (22, 3389)
OTHER = "210987654321"


def seed(org: SeededOrg, acct: str, region: str, client: Any, good: bool) -> None:
    scope, verdict = f"aws:{acct}:{region}", PASS if good else FAIL
    put = lambda check_id, resource, status=verdict: org.put(check_id, scope, resource, status)  # noqa: E731
    ec2 = client("ec2", region)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    acl = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                             {"Name": "default", "Values": ["true"]}])["NetworkAcls"][0]  # fmt: skip
    if good:
        for n, port in enumerate(ADMIN_PORTS):
            ec2.create_network_acl_entry(NetworkAclId=acl["NetworkAclId"], RuleNumber=10 + n, Protocol="6",
                                         RuleAction="deny", Egress=False, CidrBlock=WORLD,
                                         PortRange={"From": port, "To": port})  # fmt: skip
    put("aws.ec2.network_acl_admin_ports", f"arn:aws:ec2:{region}:{acct}:network-acl/{acl['NetworkAclId']}")

    # The image's root snapshot (moto makes one) is the snapshot judged: public in region 1.
    image = ec2.register_image(Name="golden", RootDeviceName="/dev/xvda")["ImageId"]
    mapped = ec2.describe_images(ImageIds=[image])["Images"][0]["BlockDeviceMappings"]
    snapshot = next(m["Ebs"]["SnapshotId"] for m in mapped if "Ebs" in m)
    ec2.modify_snapshot_attribute(SnapshotId=snapshot, Attribute="createVolumePermission", OperationType="add",
                                  **({"UserIds": [OTHER]} if good else {"GroupNames": ["all"]}))  # fmt: skip
    if not good:
        ec2.modify_image_attribute(ImageId=image, LaunchPermission={"Add": [{"Group": "all"}]})
    put("aws.ec2.snapshot_not_public", f"arn:aws:ec2:{region}::snapshot/{snapshot}")
    org.put("aws.ec2.snapshot_encrypted", scope, f"arn:aws:ec2:{region}::snapshot/{snapshot}", FAIL)
    put("aws.ec2.image_not_public", f"arn:aws:ec2:{region}::image/{image}")

    rds = client("rds", region)
    rds.create_db_instance(DBInstanceIdentifier="scratch", DBInstanceClass="db.t3.micro", Engine="postgres",
                           MasterUsername="app", MasterUserPassword="not-a-real-password-1", AllocatedStorage=20)  # fmt: skip
    rds.create_db_snapshot(DBInstanceIdentifier="scratch", DBSnapshotIdentifier="export")
    rds.delete_db_instance(DBInstanceIdentifier="scratch", SkipFinalSnapshot=True)
    if not good:
        rds.modify_db_snapshot_attribute(
            DBSnapshotIdentifier="export", AttributeName="restore", ValuesToAdd=["all"]
        )
    put("aws.rds.snapshot_not_public", f"arn:aws:rds:{region}:{acct}:snapshot:export")

    acl_arn = _web_acl(client("wafv2", region), "edge", "REGIONAL")
    _load_balancer(org, scope, client, region, vpc, acl_arn if good else None, good)
    _api(org, scope, client, region, acl_arn if good else None)
    _distribution(org, acct, client, region, good)


def _web_acl(waf: Any, name: str, scope: str) -> str:
    visibility = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": name}
    made = waf.create_web_acl(
        Name=name, Scope=scope, DefaultAction={"Allow": {}}, VisibilityConfig=visibility
    )
    return str(made["Summary"]["ARN"])


def _load_balancer(
    org: SeededOrg, scope: str, client: Any, region: str, vpc: str, acl: str | None, good: bool
) -> None:
    """An Internet-facing ALB: good redirects HTTP, spans two zones, logs, has a WAF; bad does none of it."""
    subnets = client("ec2", region).describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    subnets = sorted(subnets, key=lambda s: s["AvailabilityZone"])[: 2 if good else 1]
    elb = client("elbv2", region)
    lb = elb.create_load_balancer(Name="web", Subnets=[s["SubnetId"] for s in subnets],
                                  Scheme="internet-facing")["LoadBalancers"][0]["LoadBalancerArn"]  # fmt: skip
    if good:
        action = {
            "Type": "redirect",
            "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
        }
        elb.modify_load_balancer_attributes(LoadBalancerArn=lb, Attributes=[
            {"Key": "access_logs.s3.enabled", "Value": "true"}, {"Key": "access_logs.s3.bucket", "Value": "logs"}])  # fmt: skip
        client("wafv2", region).associate_web_acl(WebACLArn=acl, ResourceArn=lb)
    else:
        group = elb.create_target_group(Name="app", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
        action = {"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}
    elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[action])
    verdict = PASS if good else FAIL
    for check_id in ("aws.elbv2.http_redirects_to_https", "aws.elbv2.waf_web_acl", "aws.elbv2.multi_az",
                     "aws.elbv2.access_logging"):  # fmt: skip
        org.put(check_id, scope, lb, verdict)
    org.put("aws.elbv2.tls_policy", scope, lb, NA)  # no HTTPS listener: it would need an ACM certificate


def _api(org: SeededOrg, scope: str, client: Any, region: str, acl: str | None) -> None:
    """A REST API stage with a web ACL and access logs (good), or neither (bad)."""
    api = client("apigateway", region)
    rest = api.create_rest_api(name="shop", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = api.get_resources(restApiId=rest)["items"][0]["id"]
    api.put_method(restApiId=rest, resourceId=root, httpMethod="GET", authorizationType="NONE")
    api.put_integration(restApiId=rest, resourceId=root, httpMethod="GET", type="MOCK")
    api.create_deployment(restApiId=rest, stageName="prod")
    stage = f"arn:aws:apigateway:{region}::/restapis/{rest}/stages/prod"
    if acl:
        api.update_stage(restApiId=rest, stageName="prod", patchOperations=[
            {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": f"{acl}-logs"}])  # fmt: skip
        client("wafv2", region).associate_web_acl(WebACLArn=acl, ResourceArn=stage)
    for check_id in ("aws.apigateway.stage_waf_web_acl", "aws.apigateway.stage_access_logging"):
        org.put(check_id, scope, stage, PASS if acl else FAIL)


def _distribution(org: SeededOrg, acct: str, client: Any, region: str, good: bool) -> None:
    """One distribution per region's call, judged in the account scope (CloudFront is global)."""
    cache = {"TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https" if good else "allow-all",
             "MinTTL": 0, "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}}  # fmt: skip
    acl = _web_acl(client("wafv2", "us-east-1"), f"cdn-{region}", "CLOUDFRONT") if good else ""
    made = client("cloudfront").create_distribution(DistributionConfig={
        "CallerReference": region, "Comment": "", "Enabled": True, "WebACLId": acl, "DefaultCacheBehavior": cache,
        "Origins": {"Quantity": 1, "Items": [
            {"Id": "site", "DomainName": "site.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
    })["Distribution"]  # fmt: skip
    scope, verdict = f"aws:{acct}", PASS if good else FAIL
    org.put("aws.cloudfront.viewer_https", scope, made["ARN"], verdict)
    org.put("aws.cloudfront.waf_web_acl", scope, made["ARN"], verdict)
    org.put("aws.cloudfront.tls_version", scope, made["ARN"], FAIL)
