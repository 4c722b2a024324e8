"""AWS checks on logging, monitoring and vulnerability management: CloudTrail, AWS Config,
GuardDuty, Security Hub and Inspector.
"""

from __future__ import annotations

from collections.abc import Iterator

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result
from checks._judging import flag, or_nothing_to_judge
from checks.aws._common import arn_account, arn_region, judge_each, judge_open, scope_account

TRAILS = "aws.cloudtrail.trails"
RECORDERS = "aws.config.recorders"
DETECTORS = "aws.guardduty.detectors"
GD_FINDINGS = "aws.guardduty.findings"
HUB = "aws.securityhub.hub"
SH_FINDINGS = "aws.securityhub.findings"
INSPECTOR = "aws.inspector.status"
VULNERABILITY_TYPE = "Software and Configuration Checks/Vulnerabilities"
SEVERE = frozenset({"CRITICAL", "HIGH"})
OPEN_WORKFLOW = frozenset({"NEW", "NOTIFIED"})


# --- CloudTrail -----------------------------------------------------------------------------------


def _own_trails(ev: Evidence) -> Iterator[tuple[Record, str | None]]:
    """Each trail with, for trails owned by another account (an Organization trail), that account."""
    account = scope_account(ev.scope)
    for trail in ev.records(TRAILS):
        owner = arn_account(trail.resource_id)
        yield trail, owner if owner and owner != account else None


@check(
    "aws.cloudtrail.multi_region_trail",
    title="A multi-region CloudTrail trail records all management events",
    controls={
        "A.8.15": "CloudTrail is the account's log of every API call: who did what, where and when.",
        "A.8.32": "Changes made to cloud resources are recorded, so unapproved changes can be detected.",
    },
    severity="major",
    needs=[TRAILS],
    rationale="Without a logging multi-region trail, activity in unwatched regions leaves no audit trail.",
    remediation="Create (or use an Organization) multi-region trail recording read and write management "
    "events, and make sure logging is started.",
)
def multi_region_trail(ev: Evidence) -> Iterator[Result]:
    """The account needs one multi-region trail that is logging all management events."""
    trails = ev.records(TRAILS)
    good = [
        t
        for t in trails
        if t.data.get("IsMultiRegionTrail")
        and t.data.get("IsLogging")
        and t.data.get("ManagementEvents") == "All"
    ]
    account = scope_account(ev.scope)
    if good:
        names = ", ".join(sorted(t.data["Name"] for t in good))
        yield Result.of(
            *good, passed=True, reason=f"{account} is covered by trail {names}", resource_id=ev.scope
        )
        return
    issues = [
        f"{t.data['Name']}: "
        + ", ".join(
            what
            for what, bad in (
                ("single-region", not t.data.get("IsMultiRegionTrail")),
                ("not logging", not t.data.get("IsLogging")),
                (
                    f"management events {t.data.get('ManagementEvents')}",
                    t.data.get("ManagementEvents") != "All",
                ),
            )
            if bad
        )
        for t in trails
    ]
    reason = f"{account} has no logging multi-region trail" + (f" ({'; '.join(issues)})" if issues else "")
    yield Result.of(*trails, passed=False, reason=reason, resource_id=ev.scope)


def _per_trail(ev: Evidence, key: str, good: str, bad: str) -> Iterator[Result]:
    """Judge one boolean-ish field of each trail the account owns; others' trails are judged there."""
    judge = flag(key, lambda trail, ok: f"{trail.data['Name']} {good if ok else bad}")
    for trail, owner in _own_trails(ev):
        if owner:
            yield Result.not_applicable(
                trail, f"{trail.data['Name']} belongs to account {owner} and is judged there"
            )
        else:
            yield judge(trail)


@check(
    "aws.cloudtrail.log_file_validation",
    title="CloudTrail log file integrity validation is on",
    controls={
        "A.5.28": "Digest files prove the trail's logs were not altered, so they hold as evidence.",
        "A.8.15": "Logs must be protected against tampering; digest files prove they were not altered.",
    },
    severity="minor",
    needs=[TRAILS],
    rationale="Without validation, deleted or edited log files cannot be detected after an incident.",
    remediation="Enable log file validation on the trail.",
)
@or_nothing_to_judge("CloudTrail trails")
def log_file_validation(ev: Evidence) -> Iterator[Result]:
    """Every trail the account owns must write digest files."""
    yield from _per_trail(
        ev, "LogFileValidationEnabled", "validates its log files", "does not validate its log files"
    )


@check(
    "aws.cloudtrail.kms_encryption",
    title="CloudTrail logs are encrypted with a KMS key",
    controls={
        "A.8.24": "SSE-KMS encrypts the stored logs under a key whose use is controlled and logged.",
        "A.8.15": "Encrypting logs with a restricted key protects them from unauthorised reading.",
    },
    severity="minor",
    needs=[TRAILS],
    rationale="Logs reveal the whole estate's activity; a KMS key adds a second permission to read them.",
    remediation="Configure the trail to encrypt log files with a customer managed KMS key.",
)
@or_nothing_to_judge("CloudTrail trails")
def trail_kms_encryption(ev: Evidence) -> Iterator[Result]:
    """Every trail the account owns must name a KMS key."""
    yield from _per_trail(ev, "KmsKeyId", "encrypts logs with KMS", "does not encrypt logs with KMS")


# --- AWS Config -----------------------------------------------------------------------------------


@check(
    "aws.config.recorder_active",
    title="AWS Config records every resource type in every region",
    controls={
        "A.5.9": "AWS Config records an inventory of the account's resources and their configuration over time.",
        "A.8.9": "The recorder keeps the configuration of every resource and its history, for monitoring.",
        "A.8.32": "Recorded configuration changes show what changed, when and by whom.",
    },
    severity="minor",
    needs=[RECORDERS],
    rationale="Without a recorder, configuration drift and unapproved changes go unseen.",
    remediation="Set up AWS Config in the region to record all supported resource types, and start it.",
)
def config_recorder_active(ev: Evidence) -> Iterator[Result]:
    """A region needs a recorder recording all supported types, running, whose last delivery did not fail."""

    def judge(rec: Record) -> Result:
        where = arn_region(rec.resource_id)
        recorders = rec.data.get("recorders") or []
        good = [
            r["name"]
            for r in recorders
            if r.get("allSupported") and r.get("recording") and r.get("lastStatus") != "FAILURE"
        ]
        if good:
            return Result.of(
                rec, passed=True, reason=f"{where}: recorder {', '.join(good)} records all resources"
            )
        if not recorders:
            return Result.of(rec, passed=False, reason=f"{where} has no AWS Config recorder")
        states = "; ".join(
            f"{r['name']}: {'recording' if r.get('recording') else 'stopped'}, "
            f"{'all types' if r.get('allSupported') else 'selected types only'}, last status {r.get('lastStatus')}"
            for r in recorders
        )
        return Result.of(rec, passed=False, reason=f"{where}: no recorder covers all resources ({states})")

    yield from judge_each(ev, RECORDERS, "AWS Config recorder", judge)


# --- GuardDuty ------------------------------------------------------------------------------------


def _enabled_detectors(rec: Record) -> list[str]:
    return [d["DetectorId"] for d in rec.data.get("detectors") or [] if d.get("Status") == "ENABLED"]


@check(
    "aws.guardduty.enabled",
    title="GuardDuty threat detection is on in every region",
    controls={
        "A.5.7": "GuardDuty applies AWS's and partners' threat intelligence (known bad IPs and domains) to the account's activity.",
        "A.8.16": "GuardDuty monitors API calls, network and DNS traffic for anomalous behaviour.",
        "A.8.7": "It detects malware activity (and scans for malware where malware protection is on).",
    },
    severity="minor",
    needs=[DETECTORS],
    rationale="Compromised credentials, crypto-mining and malware in a region without GuardDuty go unnoticed.",
    remediation="Enable GuardDuty in the region (for an Organization, through a delegated administrator "
    "with auto-enable for new accounts).",
)
def guardduty_enabled(ev: Evidence) -> Iterator[Result]:
    """Each region needs an enabled detector."""

    def judge(rec: Record) -> Result:
        where = arn_region(rec.resource_id)
        enabled = _enabled_detectors(rec)
        reason = (
            f"{where}: detector {', '.join(enabled)} enabled" if enabled else f"{where}: GuardDuty is off"
        )
        return Result.of(rec, passed=bool(enabled), reason=reason)

    yield from judge_each(ev, DETECTORS, "GuardDuty detectors", judge)


@check(
    "aws.guardduty.high_findings_triaged",
    title="High-severity GuardDuty findings are triaged promptly",
    controls={
        "A.5.26": "A high-severity finding left open past the limit is an incident not being responded to.",
        "A.8.16": "Monitoring is effective only if the anomalies it raises are evaluated and acted upon.",
        "A.5.25": "Each high-severity finding is a security event awaiting assessment as a possible incident.",
    },
    severity="major",
    needs=[DETECTORS, GD_FINDINGS],
    rationale="A high-severity finding left open for days means a likely compromise is not being handled.",
    remediation="Investigate the finding, contain the resource if needed, then archive it with the outcome.",
    params={"max_age_days": 7},
)
@or_nothing_to_judge("GuardDuty detectors or findings")
def guardduty_high_findings(ev: Evidence) -> Iterator[Result]:
    """Unarchived findings of severity 7+ older than `max_age_days` fail; newer ones are within the window."""
    limit = int(ev.param("max_age_days"))
    findings = ev.records(GD_FINDINGS)
    yield from judge_open(
        findings,
        ev.now,
        limit,
        lambda f: f"{f.data.get('Type')} (severity {f.data.get('Severity')})",
        " has no creation date",
        " open for {age} days (limit {limit})",
    )
    if findings:
        return
    for rec in ev.records(DETECTORS):
        where = arn_region(rec.resource_id)
        if _enabled_detectors(rec):
            yield Result.of(rec, passed=True, reason=f"{where}: no open high-severity finding")
        else:
            yield Result.not_applicable(rec, f"{where}: GuardDuty is off (judged by aws.guardduty.enabled)")


# --- Security Hub, Inspector ----------------------------------------------------------------------


@check(
    "aws.securityhub.enabled",
    title="Security Hub is enabled in every region",
    controls={
        "A.8.9": "Security Hub's standards continuously assess resource configurations against a baseline.",
    },
    severity="minor",
    needs=[HUB],
    rationale="Without Security Hub, misconfigurations and findings from other services are not consolidated.",
    remediation="Enable Security Hub with the AWS Foundational Security Best Practices standard.",
)
def securityhub_enabled(ev: Evidence) -> Iterator[Result]:
    """Each region must have Security Hub enabled."""
    judge = flag(
        "Enabled", lambda rec, on: f"{arn_region(rec.resource_id)}: Security Hub {'on' if on else 'off'}"
    )
    yield from judge_each(ev, HUB, "Security Hub", judge)


def _is_open_vulnerability(f: Record) -> bool:
    return (
        any(str(t).startswith(VULNERABILITY_TYPE) for t in f.data.get("Types") or [])
        and f.data.get("SeverityLabel") in SEVERE
        and f.data.get("RecordState") == "ACTIVE"
        and f.data.get("WorkflowStatus") in OPEN_WORKFLOW
    )


@check(
    "aws.securityhub.vulnerabilities_remediated",
    title="Critical and high vulnerabilities are remediated in time",
    controls={
        "A.8.8": "Known technical vulnerabilities must be evaluated and fixed within a defined time.",
    },
    severity="major",
    needs=[HUB, SH_FINDINGS],
    rationale="Critical and high CVEs on running workloads are what attackers exploit first.",
    remediation="Patch or rebuild the affected resource, or record a risk acceptance and suppress the finding.",
    params={"max_age_days": 30},
)
def vulnerabilities_remediated(ev: Evidence) -> Iterator[Result]:
    """Active critical/high vulnerability findings older than `max_age_days` fail.

    A region without Security Hub has no findings to judge: that is `error`, never a clean bill.
    """
    limit = int(ev.param("max_age_days"))
    hubs = ev.records(HUB)
    for hub in hubs:
        if not hub.data.get("Enabled"):
            where = arn_region(hub.resource_id)
            yield Result.error(
                hub.resource_id, f"{where}: Security Hub is off, so vulnerabilities are not evidenced"
            )
    open_vulns = [f for f in ev.records(SH_FINDINGS) if _is_open_vulnerability(f)]
    yield from judge_open(
        open_vulns,
        ev.now,
        limit,
        lambda f: (
            f"{f.data.get('SeverityLabel')} {f.data.get('Title')} on {', '.join(f.data.get('Resources') or [])}"
        ),
        ": no creation date",
        ": open {age} days (limit {limit})",
    )
    if not open_vulns:
        for hub in hubs:
            if hub.data.get("Enabled"):
                yield Result.of(
                    hub,
                    passed=True,
                    reason=f"{arn_region(hub.resource_id)}: no open critical/high vulnerability",
                )


@check(
    "aws.inspector.scanning_enabled",
    title="Amazon Inspector scans workloads for vulnerabilities",
    controls={
        "A.8.8": "Inspector is how information about vulnerabilities in instances and images is obtained.",
    },
    severity="minor",
    needs=[INSPECTOR],
    rationale="Without scanning, vulnerable packages on instances and container images go unknown.",
    remediation="Activate Amazon Inspector for the listed resource types in the region.",
    params={"resource_types": ["ec2", "ecr"]},
)
def inspector_scanning_enabled(ev: Evidence) -> Iterator[Result]:
    """Each listed resource type must be ENABLED in each region."""
    wanted = [str(t) for t in ev.param("resource_types")]

    def judge(rec: Record) -> Result:
        where = arn_region(rec.resource_id)
        states = rec.data.get("ResourceStatus") or {}
        off = [t for t in wanted if states.get(t) != "ENABLED"]
        reason = (
            f"{where}: Inspector does not scan {', '.join(off)}"
            if off
            else (f"{where}: Inspector scans {', '.join(wanted)}")
        )
        return Result.of(rec, passed=not off, reason=reason)

    yield from judge_each(ev, INSPECTOR, "Inspector status", judge)
