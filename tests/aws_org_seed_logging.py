"""Audit-logging resources for the seeded AWS Organization (tests/aws_org_seed.py), with the verdicts
they must reach: log groups, a CIS metric filter with its alarm, DNS query logging, EKS clusters and
Bedrock invocation logging. Region 0 is set up well, region 1 badly.

Run per account and region after `_account_level` (it points the management account's multi-region
trail at the log group) and after any other seeding that creates VPCs (every VPC is judged).
"""

from __future__ import annotations

from typing import Any

from tests.aws_org_seed import FAIL, PASS, REGIONS, SeededOrg

ROOT_PATTERN = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
WATCHED = ("root_usage", "unauthorized_api_calls", "console_login_without_mfa", "iam_policy_changes",
           "cloudtrail_changes", "config_changes", "security_group_changes", "nacl_changes")  # fmt: skip
EKS_CHECKS = ("aws.eks.control_plane_logging", "aws.eks.endpoint_not_public", "aws.eks.secrets_encryption")


def seed(org: SeededOrg, acct: str, region: str, client: Any, good: bool) -> None:
    scope = f"aws:{acct}:{region}"
    arn = f"arn:aws:{{}}:{region}:{acct}:{{}}"
    logs = client("logs", region)
    group = "cloudtrail" if good else "app"
    logs.create_log_group(logGroupName=group)
    logs.put_retention_policy(logGroupName=group, retentionInDays=365 if good else 7)
    org.put("aws.logs.retention", scope, arn.format("logs", f"log-group:{group}"), PASS if good else FAIL)
    org.put("aws.logs.kms_encryption", scope, arn.format("logs", f"log-group:{group}"), FAIL)
    if good:
        _root_alarm(org, acct, region, client, group)
    _dns(org, scope, arn, client("ec2", region), client("route53resolver", region), good)
    _eks(org, scope, arn, client("eks", region), acct, good)
    client("cloudwatch", region).put_metric_data(
        Namespace="AWS/Bedrock", MetricData=[{"MetricName": "Invocations", "Value": 1}]
    )
    if good:
        client("bedrock", region).put_model_invocation_logging_configuration(
            loggingConfig={"s3Config": {"bucketName": f"bedrock-{acct}"}, "textDataDeliveryEnabled": True}
        )
    org.put(
        "aws.bedrock.invocation_logging", scope, arn.format("bedrock", "model-invocation-logging"),
        PASS if good else FAIL,
    )  # fmt: skip


def _root_alarm(org: SeededOrg, acct: str, region: str, client: Any, group: str) -> None:
    """A CIS root-use filter and alarm in every account; only the management account's trail
    (multi-region, logging) delivers to it, so there alone that check passes."""
    client("logs", region).put_metric_filter(
        logGroupName=group, filterName="root", filterPattern=ROOT_PATTERN,
        metricTransformations=[{"metricName": "RootUse", "metricNamespace": "CIS", "metricValue": "1"}],
    )  # fmt: skip
    client("cloudwatch", region).put_metric_alarm(
        AlarmName="root-use", MetricName="RootUse", Namespace="CIS", Statistic="Sum", Period=300,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[f"arn:aws:sns:{region}:{acct}:security-alerts"],
    )  # fmt: skip
    management = acct == org.management and region == REGIONS[0]
    if management:
        client("cloudtrail", region).update_trail(
            Name="org-trail", CloudWatchLogsLogGroupArn=f"arn:aws:logs:{region}:{acct}:log-group:{group}:*",
            CloudWatchLogsRoleArn=f"arn:aws:iam::{acct}:role/cloudtrail-logs",
        )  # fmt: skip
    for name in WATCHED:
        status = PASS if management and name == "root_usage" else FAIL
        org.put(f"aws.cloudwatch.alarm_{name}", f"aws:{acct}", f"aws:{acct}", status)


def _dns(org: SeededOrg, scope: str, arn: str, ec2: Any, resolver: Any, good: bool) -> None:
    vpcs = [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]]
    if good:
        config = resolver.create_resolver_query_log_config(
            Name="dns", DestinationArn="arn:aws:s3:::dns-logs", CreatorRequestId="seed"
        )["ResolverQueryLogConfig"]["Id"]
        resolver.associate_resolver_query_log_config(ResolverQueryLogConfigId=config, ResourceId=vpcs[0])
    for n, vpc in enumerate(vpcs):
        status = PASS if good and n == 0 else FAIL
        org.put("aws.route53resolver.vpc_query_logging", scope, arn.format("ec2", f"vpc/{vpc}"), status)


def _eks(org: SeededOrg, scope: str, arn: str, eks: Any, acct: str, good: bool) -> None:
    name = "good" if good else "bad"
    if good:
        settings = {
            "resourcesVpcConfig": {"subnetIds": ["subnet-1"], "endpointPublicAccess": False},
            "logging": {"clusterLogging": [{"types": ["api", "audit", "authenticator"], "enabled": True}]},
            "encryptionConfig": [
                {"resources": ["secrets"], "provider": {"keyArn": arn.format("kms", "key/1")}}
            ],
        }
    else:
        settings = {
            "resourcesVpcConfig": {"subnetIds": ["subnet-1"], "endpointPublicAccess": True,
                                   "publicAccessCidrs": ["0.0.0.0/0"]},
        }  # fmt: skip
    eks.create_cluster(name=name, roleArn=f"arn:aws:iam::{acct}:role/eks", **settings)
    for check_id in EKS_CHECKS:
        org.put(check_id, scope, arn.format("eks", f"cluster/{name}"), PASS if good else FAIL)
