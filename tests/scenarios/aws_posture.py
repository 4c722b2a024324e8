"""Scenarios for the AWS posture checks (ECR, Lambda, SSM, Config rules, Security Hub standards, RDS
backup replication, environment separation), with records shaped exactly as the collectors emit
them; the access checks' are in aws_posture_access.py."""

from __future__ import annotations

from typing import Any

from agent.plugin.model import Record
from tests.scenarios import ERROR, FAIL, NA, PASS, Scenario
from tests.scenarios.aws_services import ACCOUNT, ACCOUNT_SCOPE, REGION, ago, arn, db, ids, regional

REPOS, REGISTRY = "aws.ecr.repositories", "aws.ecr.registry_scanning"
FUNCTIONS, NODES = "aws.lambda.functions", "aws.ssm.managed_instances"
RULES, STANDARDS, DBS = "aws.config.rules", "aws.securityhub.standards", "aws.rds.instances"
ACCOUNTS = "aws.organizations.accounts"
ORG_SCOPE = ACCOUNT_SCOPE


def repo(name: str, mutability: str = "IMMUTABLE", scan: bool = False, **data: Any) -> Record:
    base = {
        "repositoryName": name,
        "imageTagMutability": mutability,
        "imageTagMutabilityExclusionFilters": [],
        "scanOnPush": scan,
    }
    return Record(arn("ecr", f"repository/{name}"), base | data)


def registry(scan_type: str = "BASIC", *rules: tuple[str, list[str]]) -> Record:
    listed = [{"scanFrequency": f, "repositoryFilters": filters} for f, filters in rules]
    return Record(arn("ecr", "registry-scanning-configuration"), {"scanType": scan_type, "rules": listed})


def function(name: str, runtime: str | None, package: str = "Zip") -> Record:
    data = {"FunctionName": name, "Runtime": runtime, "PackageType": package, "LastModified": ago(3)}
    return Record(arn("lambda", f"function:{name}"), data)


def node(iid: str, state: dict[str, Any] | None) -> Record:
    data = {
        "InstanceId": iid,
        "PingStatus": "Online",
        "PlatformType": "Linux",
        "ResourceType": "EC2Instance",
        "PatchState": state,
    }
    return Record(arn("ec2", f"instance/{iid}"), data)


def patched(days: int = 1, **counts: int) -> dict[str, Any]:
    zero = {
        k: 0
        for k in (
            "MissingCount",
            "FailedCount",
            "InstalledPendingRebootCount",
            "InstalledRejectedCount",
            "CriticalNonCompliantCount",
            "SecurityNonCompliantCount",
        )
    }
    return {"BaselineId": "pb-1", "Operation": "Scan", "OperationEndTime": ago(days), **zero, **counts}


def rule(name: str, compliance: str | None, state: str = "ACTIVE", count: int | None = None) -> Record:
    data = {
        "ConfigRuleName": name,
        "ConfigRuleState": state,
        "Owner": "AWS",
        "SourceIdentifier": name.upper(),
        "ComplianceType": compliance,
        "NonCompliantCount": count,
        "CapExceeded": False,
    }
    return Record(arn("config", f"config-rule/config-rule-{name}"), data)


FSBP = f"arn:aws:securityhub:{REGION}::standards/aws-foundational-security-best-practices/v/1.0.0"
PCI = f"arn:aws:securityhub:{REGION}::standards/pci-dss/v/3.2.1"


def standards(enabled: bool = True, **subscriptions: str) -> Record:
    listed = [{"StandardsArn": a, "StandardsStatus": s} for a, s in subscriptions.items()]
    return Record(arn("securityhub", "standards"), {"HubEnabled": enabled, "StandardsSubscriptions": listed})


def replica(
    region: str = "eu-central-1", days: int | None = 7, status: str | None = "replicating"
) -> dict[str, Any]:
    backups = arn("rds", "auto-backup:ab-1", region=region)
    return {
        "DBInstanceAutomatedBackupsArn": backups,
        "Region": region,
        "Status": status,
        "BackupRetentionPeriod": days,
    }


def member(aid: str, *units: tuple[str, str], placed: bool = True) -> Record:
    path = [{"Id": i, "Name": n} for i, n in units] if placed else None
    data = {
        "Id": aid,
        "State": "ACTIVE",
        "JoinedTimestamp": ago(300),
        "Name": f"acct-{aid[-2:]}",
        "JoinedMethod": "CREATED",
        "OrganizationalUnits": path,
    }
    return Record(f"arn:aws:organizations::{ACCOUNT}:account/o-1/{aid}", data)


def account_scoped(
    check_id: str, name: str, records: dict[str, list[Record]], expected: dict[str, Any], **kw: Any
) -> Scenario:
    return Scenario(check_id, name, records, expected, scope=ACCOUNT_SCOPE, **kw)


# --- ECR -------------------------------------------------------------------------------------------

SCAN, IMMUTABLE = "aws.ecr.image_scan_on_push", "aws.ecr.tag_immutability"
OWN_SCAN, UNSCANNED, APP = repo("own", scan=True), repo("unscanned"), repo("team/app", "MUTABLE")
SCENARIOS = [
    regional(
        SCAN,
        "basic: the repository's own flag or a matching registry rule",
        {REPOS: [OWN_SCAN, UNSCANNED, APP], REGISTRY: [registry("BASIC", ("SCAN_ON_PUSH", ["team/*"]))]},
        ids((OWN_SCAN, PASS), (UNSCANNED, FAIL), (APP, PASS)),
    ),
    regional(
        SCAN,
        "enhanced: only the registry's rules count",
        {REPOS: [OWN_SCAN, APP], REGISTRY: [registry("ENHANCED", ("CONTINUOUS_SCAN", ["team/*"]))]},
        ids((OWN_SCAN, FAIL), (APP, PASS)),
    ),
    regional(
        SCAN,
        "enhanced: a MANUAL rule scans nothing by itself",
        {REPOS: [APP], REGISTRY: [registry("ENHANCED", ("MANUAL", ["*"]))]},
        ids((APP, FAIL)),
    ),
    regional(
        SCAN,
        "basic continuous rules do not exist: not counted",
        {REPOS: [UNSCANNED], REGISTRY: [registry("BASIC", ("CONTINUOUS_SCAN", ["*"]))]},
        ids((UNSCANNED, FAIL)),
    ),
    regional(
        SCAN,
        "repositories without the registry record",
        {REPOS: [UNSCANNED], REGISTRY: []},
        {f"aws:{ACCOUNT}:{REGION}": ERROR},
    ),
    regional(SCAN, "no repositories", {REPOS: [], REGISTRY: [registry()]}, {f"aws:{ACCOUNT}:{REGION}": NA}),
    regional(
        IMMUTABLE,
        "immutable (with exclusions) passes, mutable fails",
        {
            REPOS: [
                OWN_SCAN,
                APP,
                repo("excl", "IMMUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters=["latest"]),
                repo("mostly", "MUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters=["v*"]),
            ]
        },
        {
            OWN_SCAN.resource_id: PASS,
            APP.resource_id: FAIL,
            repo("excl").resource_id: PASS,
            repo("mostly").resource_id: FAIL,
        },
    ),
]

# --- Lambda ----------------------------------------------------------------------------------------

RUNTIME = "aws.lambda.supported_runtime"
CURRENT, OLD, SOON, IMAGE, NEW = (
    function("current", "python3.13"),
    function("old", "python3.9"),
    function("soon", "nodejs22.x"),
    function("image", None, "Image"),
    function("new", "python3.14"),
)
NO_RUNTIME = function("no-runtime", None)
SCENARIOS += [
    regional(
        RUNTIME,
        "deprecated before now fails; later dates and unknown runtimes pass; images do not apply",
        {FUNCTIONS: [CURRENT, OLD, SOON, IMAGE, NEW]},
        ids((CURRENT, PASS), (OLD, FAIL), (SOON, PASS), (IMAGE, NA), (NEW, PASS)),
    ),
    regional(
        RUNTIME,
        "extra_deprecated adds runtimes",
        {FUNCTIONS: [NEW]},
        ids((NEW, FAIL)),
        params={"extra_deprecated": ["python3.14"]},
    ),
    regional(
        RUNTIME,
        "a Zip function listed without its runtime is unknown",
        {FUNCTIONS: [NO_RUNTIME]},
        ids((NO_RUNTIME, ERROR)),
    ),
    regional(RUNTIME, "no functions", {FUNCTIONS: []}, {f"aws:{ACCOUNT}:{REGION}": NA}),
]

# --- SSM -------------------------------------------------------------------------------------------

PATCH = "aws.ssm.patch_compliance"
OK_NODE, MISSING, STALE, NEVER, REBOOT = (
    node("i-ok", patched()),
    node("i-missing", patched(MissingCount=3)),
    node("i-stale", patched(30)),
    node("i-never", None),
    node("i-reboot", patched(InstalledPendingRebootCount=1)),
)
SCENARIOS += [
    regional(
        PATCH,
        "missing, stale, never scanned and pending reboot fail",
        {NODES: [OK_NODE, MISSING, STALE, NEVER, REBOOT]},
        ids((OK_NODE, PASS), (MISSING, FAIL), (STALE, FAIL), (NEVER, FAIL), (REBOOT, FAIL)),
    ),
    regional(
        PATCH, "a longer scan window", {NODES: [STALE]}, ids((STALE, PASS)), params={"max_scan_age_days": 31}
    ),
    regional(PATCH, "no managed instances", {NODES: []}, {f"aws:{ACCOUNT}:{REGION}": NA}),
]

# --- AWS Config rules, Security Hub standards ------------------------------------------------------

RULES_OK = "aws.config.rules_compliant"
GOOD_RULE, BAD_RULE, IDLE, NOT_APPL, OFF = (
    rule("ok", "COMPLIANT"),
    rule("bad", "NON_COMPLIANT", count=4),
    rule("idle", "INSUFFICIENT_DATA"),
    rule("none", "NOT_APPLICABLE"),
    rule("off", None, state="DELETING"),
)
STD = "aws.securityhub.standards_enabled"
SCENARIOS += [
    regional(
        RULES_OK,
        "compliant passes, non-compliant fails, the rest does not apply",
        {RULES: [GOOD_RULE, BAD_RULE, IDLE, NOT_APPL, OFF]},
        ids((GOOD_RULE, PASS), (BAD_RULE, FAIL), (IDLE, NA), (NOT_APPL, NA), (OFF, NA)),
    ),
    regional(RULES_OK, "no rules", {RULES: []}, {f"aws:{ACCOUNT}:{REGION}": NA}),
    regional(
        STD, "FSBP ready", {STANDARDS: [standards(**{FSBP: "READY", PCI: "READY"})]}, ids((standards(), PASS))
    ),
    regional(
        STD,
        "only PCI, or FSBP still pending",
        {STANDARDS: [standards(**{FSBP: "PENDING", PCI: "READY"})]},
        ids((standards(), FAIL)),
    ),
    regional(
        STD,
        "PCI when configured as wanted",
        {STANDARDS: [standards(**{PCI: "READY"})]},
        ids((standards(), PASS)),
        params={"standards": ["pci-dss"]},
    ),
    regional(STD, "hub off", {STANDARDS: [standards(False)]}, ids((standards(), FAIL))),
    regional(STD, "no record", {STANDARDS: []}, {f"aws:{ACCOUNT}:{REGION}": ERROR}),
]

# --- RDS backup replication ------------------------------------------------------------------------

REPLICATED = "aws.rds.backup_replicated"
COPIED, SHORT, LOCAL, AURORA, GONE = (
    db("copied", BackupReplications=[replica()]),
    db("short", BackupReplications=[replica(days=3)]),
    db("local", BackupReplications=[]),
    db("aurora", Engine="aurora-postgresql", BackupReplications=[]),
    db("gone", BackupReplications=[replica(days=None, status=None)]),
)
SCENARIOS += [
    regional(
        REPLICATED,
        "a live replica kept long enough passes",
        {DBS: [COPIED, SHORT, LOCAL, AURORA, GONE]},
        ids((COPIED, PASS), (SHORT, FAIL), (LOCAL, FAIL), (AURORA, NA), (GONE, FAIL)),
    ),
    regional(REPLICATED, "a lower minimum", {DBS: [SHORT]}, ids((SHORT, PASS)), params={"min_days": 3}),
    regional(REPLICATED, "no instances", {DBS: []}, {f"aws:{ACCOUNT}:{REGION}": NA}),
]

# --- Environment separation ------------------------------------------------------------------------

SEPARATION = "aws.organizations.environment_separation"
MAPPED = {"production_ous": ["ou-prod", "Workloads-Prod"], "nonproduction_ous": ["dev"]}
PROD, DEV, BOTH, LOOSE, UNKNOWN = (
    member("111111111111", ("ou-prod", "Prod")),
    member("222222222222", ("ou-dev", "Dev")),
    member("333333333333", ("ou-dev", "Dev"), ("ou-wp", "workloads-prod")),
    member("444444444444"),
    member("555555555555", placed=False),
)
SCENARIOS += [
    account_scoped(
        SEPARATION,
        "one environment each passes; both fails; unmapped does not apply",
        {ACCOUNTS: [PROD, DEV, BOTH, LOOSE, UNKNOWN]},
        ids((PROD, PASS), (DEV, PASS), (BOTH, FAIL), (LOOSE, NA), (UNKNOWN, ERROR)),
        params=MAPPED,
    ),
    account_scoped(SEPARATION, "not configured", {ACCOUNTS: [PROD, BOTH]}, {ORG_SCOPE: NA}),
    account_scoped(
        SEPARATION,
        "only production configured",
        {ACCOUNTS: [BOTH]},
        {ORG_SCOPE: NA},
        params={"production_ous": ["ou-prod"]},
    ),
]
