"""The event classes the CIS AWS Foundations Benchmark (section 4) wants an alarm on, as data: for
each, CloudTrail events a metric filter must match, events it must not, and the CIS pattern to
quote in remediation. One matcher (`_filter_pattern.catches`) judges every filter against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checks.aws._filter_pattern import Event


def _calls(source: str, *names: str) -> tuple[Event, ...]:
    """Successful API calls of `names` to the service `source`."""
    return tuple({"eventSource": source, "eventName": n, "eventType": "AwsApiCall"} for n in names)


# An ordinary successful call by an IAM user: a filter matching it would alarm on everything.
ORDINARY = {
    "eventSource": "ec2.amazonaws.com",
    "eventName": "DescribeInstances",
    "eventType": "AwsApiCall",
    "userIdentity": {"type": "IAMUser"},
    "sourceIPAddress": "203.0.113.10",
}


@dataclass(frozen=True)
class Watched:
    """One event class the account must alarm on: sample events the metric filter must match, and
    events it must not (a filter matching everything is no alarm on these)."""

    name: str
    what: str
    cis: str
    events: tuple[Event, ...]
    quiet: tuple[Event, ...] = (ORDINARY,)
    controls: dict[str, str] = field(default_factory=dict)


WATCHED = (
    Watched(
        "root_usage",
        "root account use",
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
        (
            {"userIdentity": {"type": "Root"}, "eventType": "AwsApiCall", "eventName": "CreateUser"},
            {"userIdentity": {"type": "Root"}, "eventType": "AwsConsoleSignIn", "eventName": "ConsoleLogin"},
        ),
        controls={"A.8.2": "The root user bypasses every permission: each use of it must be noticed."},
    ),
    Watched(
        "unauthorized_api_calls",
        "unauthorised API calls",
        '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
        (
            {**ORDINARY, "errorCode": "Client.UnauthorizedOperation"},
            {
                **ORDINARY,
                "eventSource": "s3.amazonaws.com",
                "eventName": "GetObject",
                "errorCode": "AccessDenied",
            },
        ),
    ),
    Watched(
        "console_login_without_mfa",
        "console sign-in without MFA",
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }',
        (
            {
                "eventSource": "signin.amazonaws.com",
                "eventName": "ConsoleLogin",
                "eventType": "AwsConsoleSignIn",
                "userIdentity": {"type": "IAMUser"},
                "additionalEventData": {"MFAUsed": "No"},
                "responseElements": {"ConsoleLogin": "Success"},
            },
        ),
        controls={"A.8.5": "Sign-ins that bypass multi-factor authentication are detected as they happen."},
    ),
    Watched(
        "iam_policy_changes",
        "IAM policy changes",
        "{ ($.eventName = DeleteGroupPolicy) || ($.eventName = PutUserPolicy) || ... (the 16 CIS events) }",
        _calls(
            "iam.amazonaws.com",
            *(f"{verb}{kind}Policy" for verb in ("Delete", "Put") for kind in ("Group", "Role", "User")),
            *("CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion"),
            *(f"{verb}{kind}Policy" for verb in ("Attach", "Detach") for kind in ("Role", "User", "Group")),
        ),
        controls={"A.8.2": "Policy changes grant and withdraw access rights, privileged ones included."},
    ),
    Watched(
        "cloudtrail_changes",
        "CloudTrail configuration changes",
        "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || "
        "($.eventName = StartLogging) || ($.eventName = StopLogging) }",
        _calls(
            "cloudtrail.amazonaws.com",
            "CreateTrail",
            "UpdateTrail",
            "DeleteTrail",
            "StartLogging",
            "StopLogging",
        ),
    ),
    Watched(
        "config_changes",
        "AWS Config configuration changes",
        "{ ($.eventSource = config.amazonaws.com) && (($.eventName = StopConfigurationRecorder) || "
        "($.eventName = DeleteDeliveryChannel) || ($.eventName = PutDeliveryChannel) || "
        "($.eventName = PutConfigurationRecorder)) }",
        _calls(
            "config.amazonaws.com",
            "StopConfigurationRecorder",
            "DeleteDeliveryChannel",
            "PutDeliveryChannel",
            "PutConfigurationRecorder",
        ),
    ),
    Watched(
        "security_group_changes",
        "security group changes",
        "{ ($.eventName = AuthorizeSecurityGroupIngress) || ... || ($.eventName = DeleteSecurityGroup) }",
        _calls(
            "ec2.amazonaws.com",
            *(
                f"{verb}SecurityGroup{way}"
                for verb in ("Authorize", "Revoke")
                for way in ("Ingress", "Egress")
            ),
            "CreateSecurityGroup",
            "DeleteSecurityGroup",
        ),
        controls={"A.8.20": "Security groups are network controls: changes to them must not go unnoticed."},
    ),
    Watched(
        "nacl_changes",
        "network ACL changes",
        "{ ($.eventName = CreateNetworkAcl) || ... || ($.eventName = ReplaceNetworkAclAssociation) }",
        _calls(
            "ec2.amazonaws.com",
            "CreateNetworkAcl",
            "CreateNetworkAclEntry",
            "DeleteNetworkAcl",
            "DeleteNetworkAclEntry",
            "ReplaceNetworkAclEntry",
            "ReplaceNetworkAclAssociation",
        ),
        controls={"A.8.20": "Network ACLs are network controls: changes to them must not go unnoticed."},
    ),
)
