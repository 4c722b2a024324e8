"""Scenarios for the audit-logging checks, with records shaped exactly as the collectors emit them."""

from __future__ import annotations

from typing import Any

from agent.plugin.model import Record, Status
from tests.scenarios import ERROR, FAIL, NA, PASS, Scenario
from tests.scenarios.aws_services import ACCOUNT, ACCOUNT_SCOPE, OTHER, REGION, REGION_SCOPE, arn, trail, vpc

GROUP = "CloudTrail/management"
GROUP_ARN = arn("logs", f"log-group:{GROUP}")
TRAILS, GROUPS, ALARMS = "aws.cloudtrail.trails", "aws.logs.log_groups", "aws.cloudwatch.alarms"
VPCS, RESOLVER = "aws.ec2.vpcs", "aws.route53resolver.query_log_associations"
CLUSTERS, BEDROCK = "aws.eks.clusters", "aws.bedrock.invocation_logging"
TOPIC = [arn("sns", "security-alerts")]
ROOT_CIS = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
NACL_CIS = (
    "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl)"
    " || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry)"
    " || ($.eventName = ReplaceNetworkAclAssociation) }"
)


def log_group(name: str = GROUP, region: str = REGION, days: int | None = 365, **data: Any) -> Record:
    base = {"logGroupName": name, "retentionInDays": days, "kmsKeyId": None, "metricFilters": []}
    return Record(arn("logs", f"log-group:{name}", region=region), base | data)


def metric_filter(name: str, pattern: str, metric: str | None = None) -> dict[str, Any]:
    transform = {"metricName": metric or name, "metricNamespace": "CISBenchmark"}
    return {"filterName": name, "filterPattern": pattern, "metricTransformations": [transform]}


def alarm(
    name: str, metric: str | None, region: str = REGION, actions: list[str] | None = TOPIC, **data: Any
) -> Record:
    base = {
        "AlarmName": name,
        "MetricName": metric,
        "Namespace": "CISBenchmark",
        "AlarmActions": actions,
        "StateValue": "OK",
        "ActionsEnabled": True,
        "Metrics": [],
    }
    return Record(arn("cloudwatch", f"alarm:{name}", region=region), base | data)


def cw_trail(name: str = "main", account: str = ACCOUNT, **data: Any) -> Record:
    return trail(name, account=account, **({"CloudWatchLogsLogGroupArn": GROUP_ARN + ":*"} | data))


def associations(*pairs: tuple[str, str]) -> Record:
    listed = [
        {"Id": f"rqlca-{n}", "ResolverQueryLogConfigId": "rqlc-1", "ResourceId": v, "Status": s}
        for n, (v, s) in enumerate(pairs)
    ]
    return Record(arn("route53resolver", "resolver-query-log-config-associations"), {"associations": listed})


def cluster(name: str, **data: Any) -> Record:
    base = {
        "name": name,
        "status": "ACTIVE",
        "version": "1.33",
        "enabledLogTypes": ["api", "audit", "authenticator"],
        "endpointPublicAccess": False,
        "endpointPrivateAccess": True,
        "publicAccessCidrs": [],
        "encryptedResources": ["secrets"],
    }
    return Record(arn("eks", f"cluster/{name}"), base | data)


def bedrock(invoked: bool, **config: Any) -> Record:
    data: dict[str, Any] = {"invoked": invoked}
    if invoked:
        data["loggingConfig"] = (
            {"cloudWatchLogGroup": None, "s3Bucket": None, "textDataDeliveryEnabled": True} | config
            if config
            else None
        )
    return Record(arn("bedrock", "model-invocation-logging"), data)


def alarms(
    check_id: str, name: str, trails: list[Record], groups: list[Record], found: list[Record], status: Status
) -> Scenario:
    """An account-level alarm scenario: one verdict for the account."""
    records = {TRAILS: trails, GROUPS: groups, ALARMS: found}
    return Scenario(check_id, name, records, {ACCOUNT_SCOPE: status}, scope=ACCOUNT_SCOPE)


def regional(
    check_id: str, name: str, records: dict[str, list[Record]], expected: dict[str, Status], **kw: Any
) -> Scenario:
    return Scenario(check_id, name, records, expected, scope=REGION_SCOPE, **kw)


ROOT = "aws.cloudwatch.alarm_root_usage"
NACL = "aws.cloudwatch.alarm_nacl_changes"
WATCHED = [
    "root_usage",
    "unauthorized_api_calls",
    "console_login_without_mfa",
    "iam_policy_changes",
    "cloudtrail_changes",
    "config_changes",
    "security_group_changes",
    "nacl_changes",
]
# Every CIS pattern, as AWS stores it once a console user pastes it in (spacing and quoting vary).
CIS = {
    "root_usage": ROOT_CIS,
    "unauthorized_api_calls": '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") '
    '&& ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }',
    "console_login_without_mfa": '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") '
    '&& ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
    "iam_policy_changes": "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)"
    "||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)"
    "||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)"
    "||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)"
    "||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
    "cloudtrail_changes": "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) "
    "|| ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
    "config_changes": "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)"
    "||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }",
    "security_group_changes": "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress)"
    " || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress)"
    " || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
    "nacl_changes": NACL_CIS,
}
ALL_FILTERS = [metric_filter(n, p) for n, p in CIS.items()]
ALL_ALARMS = [alarm(f"{n}-alarm", n) for n in CIS]
FULL_GROUP = log_group(metricFilters=ALL_FILTERS)
BROAD_IAM = metric_filter("iam", "{ ($.eventSource = iam.amazonaws.com) && ($.eventName = *Policy*) }")
# Near misses: every event name required but joined with && (matches nothing), a catch-all, a text pattern.
NEAR_MISSES = [
    metric_filter("and", NACL_CIS.replace("||", "&&")),
    metric_filter("all", "{ $.eventName = * }"),
    metric_filter("text", "CreateNetworkAcl"),
    metric_filter("broken", "{ ($.eventName = CreateNetworkAcl "),
]

SCENARIOS: list[Scenario] = [
    # Every CIS pattern with an armed alarm passes its check; none of them satisfies another's.
    *(
        alarms(
            f"aws.cloudwatch.alarm_{n}", "CIS pattern and alarm", [cw_trail()], [FULL_GROUP], ALL_ALARMS, PASS
        )
        for n in WATCHED
    ),
    *(
        alarms(
            f"aws.cloudwatch.alarm_{n}",
            "only another event's filter",
            [cw_trail()],
            [log_group(metricFilters=[f for f in ALL_FILTERS if f["filterName"] != n])],
            ALL_ALARMS,
            FAIL,
        )
        for n in WATCHED
    ),
    alarms(
        "aws.cloudwatch.alarm_iam_policy_changes",
        "broader equivalent pattern",
        [cw_trail()],
        [log_group(metricFilters=[BROAD_IAM])],
        [alarm("iam-alarm", "iam")],
        PASS,
    ),
    alarms(
        NACL,
        "near misses",
        [cw_trail()],
        [log_group(metricFilters=NEAR_MISSES)],
        [alarm("x", n["filterName"]) for n in NEAR_MISSES],
        FAIL,
    ),
    alarms(
        ROOT,
        "alarm without action",
        [cw_trail()],
        [FULL_GROUP],
        [alarm("root", "root_usage", actions=[])],
        FAIL,
    ),
    alarms(
        ROOT,
        "alarm actions disabled",
        [cw_trail()],
        [FULL_GROUP],
        [alarm("root", "root_usage", ActionsEnabled=False)],
        FAIL,
    ),
    alarms(
        ROOT,
        "alarm in another region",
        [cw_trail()],
        [FULL_GROUP],
        [alarm("root", "root_usage", region="us-east-1")],
        FAIL,
    ),
    alarms(
        ROOT,
        "alarm on another namespace",
        [cw_trail()],
        [FULL_GROUP],
        [alarm("root", "root_usage", Namespace="Other")],
        FAIL,
    ),
    alarms(
        ROOT,
        "metric-math alarm",
        [cw_trail()],
        [FULL_GROUP],
        [
            alarm(
                "root",
                None,
                Namespace=None,
                Metrics=[{"MetricName": "root_usage", "Namespace": "CISBenchmark"}],
            )
        ],
        PASS,
    ),
    alarms(ROOT, "no alarm", [cw_trail()], [FULL_GROUP], [], FAIL),
    alarms(ROOT, "trail not delivering to CloudWatch", [trail("main")], [FULL_GROUP], ALL_ALARMS, FAIL),
    alarms(ROOT, "single-region trail", [cw_trail(IsMultiRegionTrail=False)], [FULL_GROUP], ALL_ALARMS, FAIL),
    alarms(ROOT, "trail stopped", [cw_trail(IsLogging=False)], [FULL_GROUP], ALL_ALARMS, FAIL),
    alarms(
        ROOT,
        "log group not collected",
        [cw_trail()],
        [log_group("elsewhere", metricFilters=ALL_FILTERS)],
        ALL_ALARMS,
        FAIL,
    ),
    alarms(ROOT, "no trail", [], [], [], FAIL),
    alarms(
        ROOT,
        "second trail covers",
        [
            cw_trail("a", CloudWatchLogsLogGroupArn="arn:aws:logs:eu-west-1:123456789012:log-group:x:*"),
            cw_trail("b"),
        ],
        [FULL_GROUP],
        ALL_ALARMS,
        PASS,
    ),
    alarms(
        ROOT,
        "organization trail of another account",
        [cw_trail("org", account=OTHER, IsOrganizationTrail=True)],
        [],
        [],
        NA,
    ),
    # Log groups
    regional(
        "aws.logs.retention",
        "a year, forever, a week",
        {GROUPS: [log_group("a"), log_group("b", days=None), log_group("c", days=7)]},
        {
            log_group("a").resource_id: PASS,
            log_group("b").resource_id: PASS,
            log_group("c").resource_id: FAIL,
        },
    ),
    regional(
        "aws.logs.retention",
        "threshold",
        {GROUPS: [log_group("c", days=30)]},
        {log_group("c").resource_id: PASS},
        params={"min_days": 30},
    ),
    regional("aws.logs.retention", "none", {GROUPS: []}, {REGION_SCOPE: NA}),
    regional(
        "aws.logs.kms_encryption",
        "key or none",
        {GROUPS: [log_group("a", kmsKeyId=arn("kms", "key/1")), log_group("b")]},
        {log_group("a").resource_id: PASS, log_group("b").resource_id: FAIL},
    ),
    regional("aws.logs.kms_encryption", "none", {GROUPS: []}, {REGION_SCOPE: NA}),
    # DNS query logging
    regional(
        "aws.route53resolver.vpc_query_logging",
        "active, failed, none",
        {
            VPCS: [vpc("vpc-a"), vpc("vpc-b"), vpc("vpc-c")],
            RESOLVER: [associations(("vpc-a", "ACTIVE"), ("vpc-b", "FAILED"))],
        },
        {vpc("vpc-a").resource_id: PASS, vpc("vpc-b").resource_id: FAIL, vpc("vpc-c").resource_id: FAIL},
    ),
    regional(
        "aws.route53resolver.vpc_query_logging",
        "no VPC",
        {VPCS: [], RESOLVER: [associations()]},
        {REGION_SCOPE: NA},
    ),
    regional(
        "aws.route53resolver.vpc_query_logging",
        "resolver not collected",
        {VPCS: [vpc("vpc-a")], RESOLVER: []},
        {REGION_SCOPE: ERROR},
    ),
    # EKS
    regional(
        "aws.eks.control_plane_logging",
        "all, some",
        {CLUSTERS: [cluster("full"), cluster("api-only", enabledLogTypes=["api"])]},
        {cluster("full").resource_id: PASS, cluster("api-only").resource_id: FAIL},
    ),
    regional(
        "aws.eks.control_plane_logging",
        "configured types",
        {CLUSTERS: [cluster("api-only", enabledLogTypes=["api"])]},
        {cluster("api-only").resource_id: PASS},
        params={"log_types": ["api"]},
    ),
    regional("aws.eks.control_plane_logging", "none", {CLUSTERS: []}, {REGION_SCOPE: NA}),
    regional(
        "aws.eks.endpoint_not_public",
        "private, allow-listed, open, default, unstated",
        {
            CLUSTERS: [
                cluster("private"),
                cluster("listed", endpointPublicAccess=True, publicAccessCidrs=["203.0.113.0/24"]),
                cluster("open", endpointPublicAccess=True, publicAccessCidrs=["203.0.113.0/24", "0.0.0.0/0"]),
                cluster("default", endpointPublicAccess=True, publicAccessCidrs=None),
                cluster("unstated", endpointPublicAccess=None),
            ]
        },
        {
            cluster("private").resource_id: PASS,
            cluster("listed").resource_id: PASS,
            cluster("open").resource_id: FAIL,
            cluster("default").resource_id: FAIL,
            cluster("unstated").resource_id: ERROR,
        },
    ),
    regional(
        "aws.eks.secrets_encryption",
        "encrypted or not",
        {CLUSTERS: [cluster("a"), cluster("b", encryptedResources=[])]},
        {cluster("a").resource_id: PASS, cluster("b").resource_id: FAIL},
    ),
    # Bedrock
    regional(
        "aws.bedrock.invocation_logging",
        "logged to CloudWatch",
        {BEDROCK: [bedrock(True, cloudWatchLogGroup="br")]},
        {bedrock(True).resource_id: PASS},
    ),
    regional(
        "aws.bedrock.invocation_logging",
        "logged to S3",
        {BEDROCK: [bedrock(True, s3Bucket="b")]},
        {bedrock(True).resource_id: PASS},
    ),
    regional(
        "aws.bedrock.invocation_logging",
        "used, not logged",
        {BEDROCK: [bedrock(True)]},
        {bedrock(True).resource_id: FAIL},
    ),
    regional("aws.bedrock.invocation_logging", "not used", {BEDROCK: [bedrock(False)]}, {REGION_SCOPE: NA}),
    regional("aws.bedrock.invocation_logging", "not collected", {BEDROCK: []}, {REGION_SCOPE: ERROR}),
]
