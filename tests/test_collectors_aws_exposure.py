"""Exposure collectors (load balancers, CloudFront, API Gateway, network ACLs, EBS and RDS
snapshots, AMIs) against moto in server mode, which has every API they call; botocore's Stubber
with the service model's real shapes only where a failure must be forced.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from agent.errors import CollectorError
from collectors.aws import apigateway, cloudfront, ec2_exposure, elbv2, rds_snapshots
from collectors.aws.session import AwsRegion
from tests.aws_collect import collected, single_account

ACCOUNT = "123456789012"
REGION = "eu-west-1"
TLS13 = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def _region() -> AwsRegion:
    return AwsRegion(single_account(), REGION)


def _web_acl(name: str, scope: str = "REGIONAL", region: str = REGION) -> str:
    waf = boto3.client("wafv2", region_name=region)
    visibility = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": name}
    made = waf.create_web_acl(
        Name=name, Scope=scope, DefaultAction={"Allow": {}}, VisibilityConfig=visibility
    )
    return str(made["Summary"]["ARN"])


# --- load balancers --------------------------------------------------------------------------------


def _load_balancers() -> tuple[str, str, str]:
    """An Internet-facing ALB behind WAF (redirect, forward and HTTPS listeners), an internal NLB."""
    ec2, elb = boto3.client("ec2"), boto3.client("elbv2")
    subnets = sorted(ec2.describe_subnets()["Subnets"], key=lambda s: s["AvailabilityZone"])
    vpc = subnets[0]["VpcId"]
    alb = elb.create_load_balancer(
        Name="web", Subnets=[s["SubnetId"] for s in subnets[:2]], Scheme="internet-facing"
    )["LoadBalancers"][0]
    nlb = elb.create_load_balancer(
        Name="db", Subnets=[subnets[0]["SubnetId"]], Type="network", Scheme="internal"
    )
    nlb_arn = nlb["LoadBalancers"][0]["LoadBalancerArn"]
    arn = alb["LoadBalancerArn"]
    group = elb.create_target_group(Name="app", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    forward = [{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}]
    to_https = {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}
    elb.create_listener(LoadBalancerArn=arn, Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "redirect", "RedirectConfig": to_https}])  # fmt: skip
    plain = elb.create_listener(LoadBalancerArn=arn, Protocol="HTTP", Port=8080, DefaultActions=forward)
    elb.create_rule(ListenerArn=plain["Listeners"][0]["ListenerArn"], Priority=1, Actions=[
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_302"}}],
        Conditions=[{"Field": "path-pattern", "Values": ["/login"]}])  # fmt: skip
    cert = boto3.client("acm").request_certificate(DomainName="example.com")["CertificateArn"]
    elb.create_listener(LoadBalancerArn=arn, Protocol="HTTPS", Port=443, SslPolicy=TLS13,
                        Certificates=[{"CertificateArn": cert}], DefaultActions=forward)  # fmt: skip
    elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
        {"Key": "access_logs.s3.enabled", "Value": "true"}, {"Key": "access_logs.s3.bucket", "Value": "logs"}])  # fmt: skip
    acl = _web_acl("edge")
    boto3.client("wafv2").associate_web_acl(WebACLArn=acl, ResourceArn=arn)
    return arn, nlb_arn, acl


def test_load_balancers_with_listeners_rules_attributes_and_web_acl(aws: str) -> None:
    alb, nlb, acl = _load_balancers()
    records = collected(elbv2.load_balancers, _region())
    assert set(records) == {alb, nlb}
    web = records[alb]
    assert {k: web[k] for k in ("LoadBalancerName", "Type", "Scheme", "AvailabilityZones", "Attributes", "WebACLArn")} == {
        "LoadBalancerName": "web", "Type": "application", "Scheme": "internet-facing",
        "AvailabilityZones": [f"{REGION}a", f"{REGION}b"], "Attributes": {"access_logs.s3.enabled": "true"},
        "WebACLArn": acl,
    }  # fmt: skip
    listeners = {x["Port"]: x for x in web["Listeners"]}
    assert listeners[80]["Actions"] == [{"Type": "redirect", "RedirectProtocol": "HTTPS"}]
    assert sorted(listeners[8080]["Actions"], key=str) == [
        {"Type": "forward", "RedirectProtocol": None},
        {"Type": "redirect", "RedirectProtocol": "HTTPS"},
    ]  # every rule's actions, the default rule's forward included
    assert listeners[443] == {"Port": 443, "Protocol": "HTTPS", "SslPolicy": TLS13}  # no rules read for HTTPS
    assert records[nlb] == {
        "LoadBalancerName": "db", "Type": "network", "Scheme": "internal", "AvailabilityZones": [f"{REGION}a"],
        "Listeners": [], "Attributes": {"access_logs.s3.enabled": None}, "WebACLArn": None,
    }  # fmt: skip


def test_a_load_balancer_whose_web_acl_cannot_be_read_fails_the_listing(aws: str) -> None:
    _load_balancers()
    target = _region()
    with Stubber(target.client("wafv2")) as stub:
        stub.add_client_error("get_web_acl_for_resource", "AccessDeniedException", http_status_code=400)
        with pytest.raises(CollectorError, match=r"^access denied: wafv2:GetWebACLForResource$"):
            list(elbv2.load_balancers(target))


# --- CloudFront ------------------------------------------------------------------------------------


def _behaviour(policy: str, path: str | None = None) -> dict[str, Any]:
    cache = {"TargetOriginId": "site", "ViewerProtocolPolicy": policy, "MinTTL": 0,
             "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}}  # fmt: skip
    return cache | ({"PathPattern": path} if path else {})


def test_cloudfront_distributions_viewer_policies_certificate_and_web_acl(aws: str) -> None:
    account = single_account()
    assert collected(cloudfront.distributions, account) == {}
    acl = _web_acl("cdn", "CLOUDFRONT", "us-east-1")
    made = boto3.client("cloudfront").create_distribution(DistributionConfig={
        "CallerReference": "site", "Comment": "", "Enabled": True, "WebACLId": acl,
        "Origins": {"Quantity": 1, "Items": [
            {"Id": "site", "DomainName": "site.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": _behaviour("redirect-to-https"),
        "CacheBehaviors": {"Quantity": 1, "Items": [_behaviour("allow-all", "/legacy/*")]},
    })["Distribution"]  # fmt: skip
    assert collected(cloudfront.distributions, account) == {
        made["ARN"]: {
            "Id": made["Id"], "DomainName": made["DomainName"],
            "DefaultCacheBehavior": {"ViewerProtocolPolicy": "redirect-to-https"},
            "CacheBehaviors": [{"PathPattern": "/legacy/*", "ViewerProtocolPolicy": "allow-all"}],
            "ViewerCertificate": {"CloudFrontDefaultCertificate": True, "MinimumProtocolVersion": "TLSv1"},
            "WebACLId": acl,
        }
    }  # fmt: skip


# --- API Gateway -----------------------------------------------------------------------------------


def test_api_gateway_stages_with_web_acl_endpoint_type_and_access_logs(aws: str) -> None:
    client = boto3.client("apigateway")
    public = client.create_rest_api(name="shop", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    private = client.create_rest_api(name="internal", endpointConfiguration={"types": ["PRIVATE"]})["id"]
    for api in (public, private):
        root = client.get_resources(restApiId=api)["items"][0]["id"]
        client.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
        client.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
        client.create_deployment(restApiId=api, stageName="prod")
    logs = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:access"
    client.update_stage(restApiId=public, stageName="prod", patchOperations=[
        {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": logs},
        {"op": "replace", "path": "/accessLogSettings/format", "value": "$context.requestId"}])  # fmt: skip
    stage = f"arn:aws:apigateway:{REGION}::/restapis/{public}/stages/prod"
    acl = _web_acl("api")
    boto3.client("wafv2").associate_web_acl(WebACLArn=acl, ResourceArn=stage)
    assert collected(apigateway.stages, _region()) == {
        stage: {"restApiId": public, "name": "shop", "endpointTypes": ["REGIONAL"], "stageName": "prod",
                "webAclArn": acl, "accessLogDestination": logs},
        f"arn:aws:apigateway:{REGION}::/restapis/{private}/stages/prod": {
            "restApiId": private, "name": "internal", "endpointTypes": ["PRIVATE"], "stageName": "prod",
            "webAclArn": None, "accessLogDestination": None},
    }  # fmt: skip


# --- network ACLs, EBS snapshots, AMIs -------------------------------------------------------------


def test_network_acls_keep_inbound_entries_and_associations(aws: str) -> None:
    ec2 = boto3.client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=50, Protocol="6", RuleAction="deny", Egress=False,
                                 CidrBlock="0.0.0.0/0", PortRange={"From": 22, "To": 22})  # fmt: skip
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=60, Protocol="-1", RuleAction="allow", Egress=False,
                                 Ipv6CidrBlock="::/0")  # fmt: skip
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=70, Protocol="-1", RuleAction="allow", Egress=True,
                                 CidrBlock="0.0.0.0/0")  # fmt: skip
    records = collected(ec2_exposure.network_acls, _region())
    assert records[f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-acl/{acl}"] == {
        "NetworkAclId": acl, "VpcId": vpc, "IsDefault": False, "SubnetIds": [],
        "Ingress": [
            {"RuleNumber": 50, "Protocol": "6", "RuleAction": "deny", "CidrBlock": "0.0.0.0/0",
             "Ipv6CidrBlock": None, "PortRange": {"From": 22, "To": 22}},
            {"RuleNumber": 60, "Protocol": "-1", "RuleAction": "allow", "CidrBlock": None,
             "Ipv6CidrBlock": "::/0", "PortRange": None},
        ],
    }  # fmt: skip
    (default,) = [r for r in records.values() if r["IsDefault"]]
    subnets = sorted(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] == vpc)
    assert default["SubnetIds"] == subnets and default["Ingress"][0]["RuleAction"] == "allow"


def test_snapshots_and_images_the_account_owns_with_who_may_use_them(aws: str) -> None:
    ec2 = boto3.client("ec2")
    snaps = {}
    for name in ("private", "shared", "public"):
        vol = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)["VolumeId"]
        snaps[name] = ec2.create_snapshot(VolumeId=vol, Description=name)["SnapshotId"]
    ec2.modify_snapshot_attribute(SnapshotId=snaps["shared"], Attribute="createVolumePermission",
                                  OperationType="add", UserIds=["210987654321"])  # fmt: skip
    ec2.modify_snapshot_attribute(SnapshotId=snaps["public"], Attribute="createVolumePermission",
                                  OperationType="add", GroupNames=["all"])  # fmt: skip
    ec2.create_tags(Resources=[snaps["private"]], Tags=[{"Key": "owner", "Value": "dba"}])
    records = collected(ec2_exposure.snapshots, _region())
    assert records == {
        f"arn:aws:ec2:{REGION}::snapshot/{sid}": {
            "SnapshotId": sid,
            "Encrypted": False,
            "CreateVolumePermissions": perms,
            "Tags": tags,
        }
        for sid, perms, tags in (
            (snaps["private"], [], {"owner": "dba"}),
            (snaps["shared"], [{"UserId": "210987654321"}], {}),
            (snaps["public"], [{"Group": "all"}], {}),
        )
    }
    instance = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    private = ec2.create_image(InstanceId=instance, Name="private-build")["ImageId"]
    public = ec2.create_image(InstanceId=instance, Name="public-build")["ImageId"]
    ec2.modify_image_attribute(ImageId=public, LaunchPermission={"Add": [{"Group": "all"}]})
    ec2.create_tags(Resources=[public], Tags=[{"Key": "classification", "Value": "public"}])
    assert collected(ec2_exposure.images, _region()) == {
        f"arn:aws:ec2:{REGION}::image/{private}": {
            "ImageId": private,
            "Name": "private-build",
            "Public": False,
            "Tags": {},
        },
        f"arn:aws:ec2:{REGION}::image/{public}": {
            "ImageId": public,
            "Name": "public-build",
            "Public": True,
            "Tags": {"classification": "public"},
        },
    }


def test_a_snapshot_whose_permissions_cannot_be_read_fails_the_listing(aws: str) -> None:
    target = _region()
    with Stubber(target.client("ec2")) as stub:
        stub.add_response("describe_snapshots", {"Snapshots": [{"SnapshotId": "snap-1", "OwnerId": ACCOUNT}]},
                          {"OwnerIds": ["self"]})  # fmt: skip
        stub.add_client_error("describe_snapshot_attribute", "UnauthorizedOperation", http_status_code=403)
        with pytest.raises(CollectorError, match=r"^access denied: ec2:DescribeSnapshotAttribute$"):
            list(ec2_exposure.snapshots(target))


# --- RDS snapshots ---------------------------------------------------------------------------------


def test_manual_db_and_cluster_snapshots_with_who_may_restore_them(aws: str) -> None:
    rds = boto3.client("rds")
    login = {"MasterUsername": "app", "MasterUserPassword": "not-a-real-password-1"}
    rds.create_db_instance(DBInstanceIdentifier="app", DBInstanceClass="db.t3.micro", Engine="postgres",
                           AllocatedStorage=20, BackupRetentionPeriod=7, **login)  # fmt: skip
    rds.create_db_snapshot(DBInstanceIdentifier="app", DBSnapshotIdentifier="leaked",
                           Tags=[{"Key": "owner", "Value": "dba"}])  # fmt: skip
    rds.modify_db_snapshot_attribute(
        DBSnapshotIdentifier="leaked", AttributeName="restore", ValuesToAdd=["all"]
    )
    rds.create_db_cluster(DBClusterIdentifier="aurora", Engine="aurora-postgresql", **login)
    rds.create_db_cluster_snapshot(DBClusterIdentifier="aurora", DBClusterSnapshotIdentifier="nightly")
    rds.modify_db_cluster_snapshot_attribute(DBClusterSnapshotIdentifier="nightly", AttributeName="restore",
                                             ValuesToAdd=["210987654321"])  # fmt: skip
    assert any(s["SnapshotType"] == "automated" for s in rds.describe_db_snapshots()["DBSnapshots"])
    assert collected(rds_snapshots.snapshots, _region()) == {
        f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:leaked": {
            "DBSnapshotIdentifier": "leaked", "restore": ["all"], "Tags": {"owner": "dba"},
            "Encrypted": False, "KmsKeyId": None},
        f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster-snapshot:nightly": {
            "DBClusterSnapshotIdentifier": "nightly", "restore": ["210987654321"], "Tags": {},
            "StorageEncrypted": False, "KmsKeyId": "default_kms_key_id"},
    }  # fmt: skip
