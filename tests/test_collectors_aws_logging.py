"""Audit-logging collectors against moto (server mode): CloudWatch Logs, CloudWatch alarms and
metrics, Route 53 Resolver, EKS, Bedrock and CloudTrail's log group. moto has every call these
collectors make; botocore's Stubber is used only where a test needs AWS to fail or to answer as
moto does not (the service model's real shapes).
"""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from agent.errors import CollectorError
from collectors.aws import bedrock, cloudtrail, cloudwatch, eks, logs, route53resolver
from collectors.aws.session import AwsRegion
from tests.aws_collect import collected, seeder, single_account

ACCOUNT = "123456789012"
REGION = "eu-west-1"
ROOT_PATTERN = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS }'


@pytest.fixture
def target(aws: str) -> AwsRegion:
    return AwsRegion(single_account(), REGION)


def test_log_groups_with_retention_key_and_their_metric_filters(target: AwsRegion) -> None:
    client = seeder(target, "logs")
    key = seeder(target, "kms").create_key()["KeyMetadata"]["Arn"]
    client.create_log_group(logGroupName="trail", kmsKeyId=key)
    client.put_retention_policy(logGroupName="trail", retentionInDays=400)
    client.create_log_group(logGroupName="app")
    client.put_metric_filter(
        logGroupName="trail", filterName="root", filterPattern=ROOT_PATTERN,
        metricTransformations=[{"metricName": "RootUse", "metricNamespace": "CIS", "metricValue": "1"}],
    )  # fmt: skip
    records = collected(logs.log_groups, target)
    base = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:"
    assert records == {
        base + "trail": {
            "logGroupName": "trail",
            "retentionInDays": 400,
            "kmsKeyId": key,
            "metricFilters": [
                {
                    "filterName": "root",
                    "filterPattern": ROOT_PATTERN,
                    "metricTransformations": [{"metricName": "RootUse", "metricNamespace": "CIS"}],
                }
            ],
        },
        base + "app": {"logGroupName": "app", "retentionInDays": None, "kmsKeyId": None, "metricFilters": []},
    }


def test_a_denied_metric_filter_listing_fails_the_log_groups(target: AwsRegion) -> None:
    with Stubber(target.client("logs")) as stub:
        stub.add_client_error("describe_metric_filters", "AccessDeniedException", http_status_code=400)
        with pytest.raises(CollectorError, match=r"^access denied: logs:DescribeMetricFilters$"):
            list(logs.log_groups(target))


def test_alarms_keep_the_watched_metric_and_actions(target: AwsRegion) -> None:
    client = seeder(target, "cloudwatch")
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
    client.put_metric_alarm(
        AlarmName="root", MetricName="RootUse", Namespace="CIS", Statistic="Sum", Period=300,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=[topic],
    )  # fmt: skip
    client.put_metric_alarm(
        AlarmName="math", EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
        ActionsEnabled=False, Metrics=[
            {"Id": "m", "MetricStat": {"Metric": {"Namespace": "CIS", "MetricName": "NaclChanges"},
                                       "Period": 300, "Stat": "Sum"}, "ReturnData": False},
            {"Id": "e", "Expression": "m * 2", "ReturnData": True}],
    )  # fmt: skip
    records = collected(cloudwatch.alarms, target)
    root = records[f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:root"]
    assert {k: root[k] for k in ("MetricName", "Namespace", "AlarmActions", "ActionsEnabled", "Metrics")} == {
        "MetricName": "RootUse", "Namespace": "CIS", "AlarmActions": [topic], "ActionsEnabled": True, "Metrics": [],
    }  # fmt: skip
    math = records[f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:math"]
    assert (math["ActionsEnabled"], math["MetricName"]) == (False, None)
    assert math["Metrics"] == [{"MetricName": "NaclChanges", "Namespace": "CIS"}]


def test_trails_name_their_cloudwatch_log_group(target: AwsRegion) -> None:
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:trail:*"
    seeder(target, "s3").create_bucket(
        Bucket="logs", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    seeder(target, "cloudtrail").create_trail(
        Name="main", S3BucketName="logs", IsMultiRegionTrail=True, CloudWatchLogsLogGroupArn=group,
        CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCOUNT}:role/trail",
    )  # fmt: skip
    [trail] = collected(cloudtrail.trails, target.account).values()
    assert trail["CloudWatchLogsLogGroupArn"] == group


def test_query_log_associations_per_region(target: AwsRegion) -> None:
    resource = f"arn:aws:route53resolver:{REGION}:{ACCOUNT}:resolver-query-log-config-associations"
    assert collected(route53resolver.query_log_associations, target) == {resource: {"associations": []}}
    vpc = seeder(target, "ec2").describe_vpcs()["Vpcs"][0]["VpcId"]
    client = seeder(target, "route53resolver")
    config = client.create_resolver_query_log_config(
        Name="dns", DestinationArn=f"arn:aws:s3:::dns-{ACCOUNT}", CreatorRequestId="seed"
    )["ResolverQueryLogConfig"]["Id"]
    client.associate_resolver_query_log_config(ResolverQueryLogConfigId=config, ResourceId=vpc)
    [association] = collected(route53resolver.query_log_associations, target)[resource]["associations"]
    assert {k: association[k] for k in ("ResolverQueryLogConfigId", "ResourceId", "Status")} == {
        "ResolverQueryLogConfigId": config,
        "ResourceId": vpc,
        "Status": "ACTIVE",
    }


def test_eks_clusters_logging_endpoint_and_encryption(target: AwsRegion) -> None:
    client = seeder(target, "eks")
    role = f"arn:aws:iam::{ACCOUNT}:role/eks"
    client.create_cluster(
        name="prod", roleArn=role,
        resourcesVpcConfig={"subnetIds": ["subnet-1"], "endpointPublicAccess": True,
                            "endpointPrivateAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]},
        logging={"clusterLogging": [{"types": ["audit", "api"], "enabled": True},
                                    {"types": ["scheduler"], "enabled": False}]},
        encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1"}}],
    )  # fmt: skip
    client.create_cluster(name="bare", roleArn=role, resourcesVpcConfig={"subnetIds": ["subnet-1"]})
    records = collected(eks.clusters, target)
    prod = records[f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/prod"]
    assert {k: prod[k] for k in ("enabledLogTypes", "endpointPublicAccess", "publicAccessCidrs", "encryptedResources")} == {
        "enabledLogTypes": ["api", "audit"], "endpointPublicAccess": True,
        "publicAccessCidrs": ["203.0.113.0/24"], "encryptedResources": ["secrets"],
    }  # fmt: skip
    bare = records[f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/bare"]
    assert (bare["enabledLogTypes"], bare["encryptedResources"]) == ([], [])


def test_bedrock_logging_is_read_only_where_models_are_invoked(target: AwsRegion) -> None:
    resource = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:model-invocation-logging"
    with Stubber(target.client("bedrock")):  # an unexpected call to Bedrock would fail here
        assert collected(bedrock.invocation_logging, target) == {resource: {"invoked": False}}
    seeder(target, "cloudwatch").put_metric_data(
        Namespace="AWS/Bedrock",
        MetricData=[{"MetricName": "Invocations", "Value": 1,
                     "Dimensions": [{"Name": "ModelId", "Value": "anthropic.claude"}]}],
    )  # fmt: skip
    assert collected(bedrock.invocation_logging, target) == {
        resource: {"invoked": True, "loggingConfig": None}
    }
    seeder(target, "bedrock").put_model_invocation_logging_configuration(
        loggingConfig={"cloudWatchConfig": {"logGroupName": "bedrock", "roleArn": f"arn:aws:iam::{ACCOUNT}:role/b"},
                       "textDataDeliveryEnabled": True}
    )  # fmt: skip
    config = collected(bedrock.invocation_logging, target)[resource]["loggingConfig"]
    assert (config["cloudWatchLogGroup"], config["s3Bucket"], config["textDataDeliveryEnabled"]) == (
        "bedrock",
        None,
        True,
    )
