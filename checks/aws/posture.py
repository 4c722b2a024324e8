"""AWS checks on vulnerabilities, configuration, resilience and separation: ECR image scanning and
tag immutability, Lambda runtimes, SSM patch compliance, AWS Config rules, Security Hub
standards, RDS backups replicated to another region, production apart from non-production.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result, Status
from checks._dates import age_days
from checks._judging import as_list, or_nothing_to_judge
from checks.aws._common import arn_region, judge_each

REPOSITORIES = "aws.ecr.repositories"
REGISTRY_SCANNING = "aws.ecr.registry_scanning"
FUNCTIONS = "aws.lambda.functions"
MANAGED_INSTANCES = "aws.ssm.managed_instances"
CONFIG_RULES = "aws.config.rules"
STANDARDS = "aws.securityhub.standards"
DATABASES = "aws.rds.instances"
ACCOUNTS = "aws.organizations.accounts"

# Lambda's deprecation date of each runtime identifier (Lambda developer guide, "Runtime deprecation",
# as published in 2026). Past the date AWS stops patching the runtime; later dates are upcoming.
RUNTIME_DEPRECATION = {
    runtime: date.fromisoformat(day)
    for day, runtimes in {
        "2019-07-30": ("dotnetcore1.0",),
        "2019-05-30": ("dotnetcore2.0",),
        "2019-08-12": ("nodejs6.10",),
        "2020-03-06": ("nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs8.10"),
        "2021-07-15": ("python2.7",),
        "2021-07-30": ("nodejs10.x", "ruby2.5"),
        "2022-01-05": ("dotnetcore2.1",),
        "2022-05-10": ("dotnet5.0",),
        "2022-07-18": ("python3.6",),
        "2023-03-31": ("nodejs12.x",),
        "2023-04-03": ("dotnetcore3.1",),
        "2023-12-04": ("python3.7", "nodejs14.x"),
        "2023-12-07": ("ruby2.7",),
        "2024-01-08": ("java8", "go1.x", "provided"),
        "2024-05-14": ("dotnet7",),
        "2024-06-12": ("nodejs16.x",),
        "2024-10-14": ("python3.8",),
        "2024-12-20": ("dotnet6",),
        "2025-09-01": ("nodejs18.x",),
        "2025-12-15": ("python3.9",),
        "2026-03-31": ("ruby3.2",),
        "2026-04-30": ("nodejs20.x",),
        "2026-06-30": ("python3.10", "python3.11", "java8.al2", "java11", "provided.al2"),
        "2026-11-10": ("dotnet8",),
        "2027-03-31": ("ruby3.3",),
        "2027-04-30": ("nodejs22.x",),
    }.items()
    for runtime in runtimes
}
PATCH_FAULTS = {
    "MissingCount": "missing",
    "FailedCount": "failed to install",
    "InstalledPendingRebootCount": "installed pending reboot",
    "InstalledRejectedCount": "rejected but installed",
}
# Engines whose backups are kept per cluster, or that cannot replicate automated backups.
CLUSTER_ENGINES = re.compile(r"^(aurora|docdb|neptune)")
LIVE_REPLICA = frozenset({"replicating", "active"})
SCANNING_RULES = frozenset({"SCAN_ON_PUSH", "CONTINUOUS_SCAN"})  # the frequencies that scan without a person


# --- ECR ------------------------------------------------------------------------------------------


def _scanning_rules(registry: Record, repository: str) -> list[str]:
    """The registry rules whose wildcard filters match the repository, by scan frequency."""
    matched = []
    for rule in registry.data.get("rules") or []:
        patterns = [re.escape(f).replace(r"\*", ".*") for f in rule.get("repositoryFilters") or []]
        if any(re.fullmatch(p, repository) for p in patterns):
            matched.append(str(rule.get("scanFrequency")))
    return matched


@check(
    "aws.ecr.image_scan_on_push",
    title="ECR images are scanned for vulnerabilities when pushed",
    controls={
        "A.8.8": "Scanning each image as it is pushed obtains its known vulnerabilities in time.",
        "A.8.29": "Each image is tested for known vulnerabilities when it is built, before it is accepted for release.",
    },
    severity="minor",
    needs=[REPOSITORIES, REGISTRY_SCANNING],
    rationale="Images pushed unscanned reach production with known CVEs nobody has been told about.",
    remediation="Turn on enhanced scanning (Amazon Inspector) for the registry with a rule matching every "
    "repository, or basic scan on push for the repository.",
)
@or_nothing_to_judge("ECR repositories")
def ecr_image_scan_on_push(ev: Evidence) -> Iterator[Result]:
    """A repository passes when a registry rule scans it, or (basic scanning only) its own scan on push."""
    repositories = ev.records(REPOSITORIES)
    registry = ev.one(REGISTRY_SCANNING)
    if registry is None:
        if repositories:
            yield Result.error(ev.scope, f"no ECR registry scanning record was collected for {ev.scope}")
        return
    enhanced = registry.data.get("scanType") == "ENHANCED"
    kind = "enhanced" if enhanced else "basic"
    for repo in repositories:
        name = repo.data.get("repositoryName")
        rules = _scanning_rules(registry, str(name))
        # Enhanced scanning by a rule that scans (MANUAL does not); basic: on-push rules and the repository's flag.
        rules = [r for r in rules if r in SCANNING_RULES and (enhanced or r == "SCAN_ON_PUSH")]
        if not enhanced and repo.data.get("scanOnPush"):
            rules.append("the repository's scan on push")
        reason = f"{name}: {kind} scanning " + (f"by {', '.join(rules)}" if rules else "does not cover it")
        yield Result.of(repo, registry, passed=bool(rules), reason=reason)


@check(
    "aws.ecr.tag_immutability",
    title="ECR image tags are immutable",
    controls={
        "A.8.19": "With immutable tags, the image a deployment names cannot be swapped for other software afterwards.",
        "A.8.32": "An immutable tag means a deployed version cannot be silently replaced by another image.",
        "A.8.9": "Pinning what a tag points to keeps the deployed configuration the one that was approved.",
    },
    severity="minor",
    needs=[REPOSITORIES],
    rationale="With mutable tags anyone who can push can swap the image behind a released tag unnoticed.",
    remediation="Set the repository's image tag mutability to IMMUTABLE (exclusions only for tags such as "
    "'latest' that are never deployed by name).",
)
@or_nothing_to_judge("ECR repositories")
def ecr_tag_immutability(ev: Evidence) -> Iterator[Result]:
    """IMMUTABLE passes (with its exclusions named); MUTABLE, with or without exclusions, fails."""
    for repo in ev.records(REPOSITORIES):
        name, setting = repo.data.get("repositoryName"), str(repo.data.get("imageTagMutability"))
        excluded = repo.data.get("imageTagMutabilityExclusionFilters") or []
        shown = f" (except {', '.join(excluded)})" if excluded else ""
        yield Result.of(
            repo, passed=setting.startswith("IMMUTABLE"), reason=f"{name}: image tags {setting}{shown}"
        )


# --- Lambda ---------------------------------------------------------------------------------------


@check(
    "aws.lambda.supported_runtime",
    title="Lambda functions run on a runtime AWS still patches",
    controls={
        "A.8.8": "A deprecated runtime no longer receives security fixes for its language or OS.",
        "A.8.9": "Runtimes are part of the functions' configuration, kept within supported versions.",
    },
    severity="minor",
    needs=[FUNCTIONS],
    rationale="Functions on a deprecated runtime keep running with vulnerabilities that will never be fixed.",
    remediation="Move the function to a supported runtime of its language and redeploy it.",
    params={"extra_deprecated": []},
)
@or_nothing_to_judge("Lambda functions")
def lambda_supported_runtime(ev: Evidence) -> Iterator[Result]:
    """Each function's runtime must not be past its deprecation date, nor listed in `extra_deprecated`."""
    extra = set(as_list(ev.param("extra_deprecated"), "extra_deprecated"))
    today = ev.now.date()
    for fn in ev.records(FUNCTIONS):
        name, runtime = fn.data.get("FunctionName"), fn.data.get("Runtime")
        if not runtime:  # only an image has none: a Zip function listed without one is unknown
            if fn.data.get("PackageType") == "Image":
                yield Result.not_applicable(
                    fn, f"{name} is a container image: its runtime is judged in the image"
                )
            else:
                yield Result.error(fn.resource_id, f"{name}: listed without its runtime")
            continue
        ends = RUNTIME_DEPRECATION.get(runtime)
        if runtime in extra:
            passed, said = False, "listed in extra_deprecated"
        elif ends is None:
            passed, said = True, "not on Lambda's deprecation list"
        else:
            passed, said = ends > today, f"{'deprecated' if ends <= today else 'supported until'} {ends}"
        yield Result.of(fn, passed=passed, reason=f"{name}: runtime {runtime} {said}")


# --- Systems Manager ------------------------------------------------------------------------------


@check(
    "aws.ssm.patch_compliance",
    title="Managed instances are patched to their patch baseline",
    controls={"A.8.8": "Patch Manager reports each node's missing and failed patches against its baseline."},
    severity="major",
    needs=[MANAGED_INSTANCES],
    rationale="Missing security patches are the known vulnerabilities attackers exploit first.",
    remediation="Run Patch Manager's Install operation (a patch policy or maintenance window) on the node, "
    "reboot where patches wait for it, and scan regularly.",
    params={"max_scan_age_days": 14},
)
@or_nothing_to_judge("SSM managed instances")
def ssm_patch_compliance(ev: Evidence) -> Iterator[Result]:
    """A node passes when its last patch operation is recent and left nothing missing, failed or pending."""
    limit = int(ev.param("max_scan_age_days"))
    for node in ev.records(MANAGED_INSTANCES):
        name, state = node.data.get("InstanceId"), node.data.get("PatchState")
        if not state:
            yield Result.of(node, passed=False, reason=f"{name}: Patch Manager has never reported on it")
            continue
        faults = [f"{state[k]} {said}" for k, said in PATCH_FAULTS.items() if int(state.get(k) or 0)]
        age = age_days(state.get("OperationEndTime"), ev.now)
        if age is None or age > limit:
            faults.append(
                f"last {state.get('Operation') or 'patch operation'} "
                + (f"{age} days ago (limit {limit})" if age is not None else "has no date")
            )
        reason = f"{name}: " + (
            "; ".join(faults) if faults else f"patched to baseline {state.get('BaselineId')}"
        )
        yield Result.of(node, passed=not faults, reason=reason)


# --- AWS Config, Security Hub ---------------------------------------------------------------------


@check(
    "aws.config.rules_compliant",
    title="AWS Config rules find their resources compliant",
    controls={
        "A.8.9": "Each rule is a required configuration, evaluated continuously against the resources.",
        "A.5.36": "Rules encode the organization's security policies and standards; compliance is checked.",
    },
    severity="minor",
    needs=[CONFIG_RULES],
    rationale="A non-compliant rule is a known deviation from the configuration baseline left standing.",
    remediation="Fix the non-compliant resources the rule names (or remediate automatically), or retire a "
    "rule that no longer reflects policy.",
)
@or_nothing_to_judge("AWS Config rules")
def config_rules_compliant(ev: Evidence) -> Iterator[Result]:
    """COMPLIANT passes, NON_COMPLIANT fails; inactive rules and rules with nothing evaluated do not apply."""
    for rule in ev.records(CONFIG_RULES):
        name, verdict = rule.data.get("ConfigRuleName"), rule.data.get("ComplianceType")
        if rule.data.get("ConfigRuleState") != "ACTIVE":
            yield Result.not_applicable(rule, f"{name} is {rule.data.get('ConfigRuleState')}, not active")
        elif verdict in ("COMPLIANT", "NON_COMPLIANT"):
            count = rule.data.get("NonCompliantCount")
            more = "+" if rule.data.get("CapExceeded") else ""
            shown = f" ({count}{more} resources)" if count else ""
            yield Result.of(rule, passed=verdict == "COMPLIANT", reason=f"{name}: {verdict}{shown}")
        else:
            yield Result.not_applicable(
                rule, f"{name}: no evaluation to judge ({verdict or 'none reported'})"
            )


def _standard_name(arn: str) -> str:
    """`cis-aws-foundations-benchmark/v/1.4.0` from a standards (or legacy ruleset) ARN."""
    return arn.split(":standards/", 1)[-1].split(":ruleset/", 1)[-1]


@check(
    "aws.securityhub.standards_enabled",
    title="Security Hub assesses every region against a security standard",
    controls={
        "A.8.9": "A standard's controls continuously assess resource configurations against a baseline.",
        "A.5.36": "It checks compliance with a recognised security standard the organization adopted.",
    },
    severity="minor",
    needs=[STANDARDS],
    rationale="Security Hub without a standard collects findings but evaluates no configuration.",
    remediation="Enable AWS Foundational Security Best Practices or the CIS AWS Foundations Benchmark in "
    "Security Hub (central configuration covers every account and region).",
    params={"standards": ["aws-foundational-security-best-practices", "cis-aws-foundations-benchmark"]},
)
def securityhub_standards_enabled(ev: Evidence) -> Iterator[Result]:
    """A region passes with at least one of `standards` READY; with the hub off, none is."""
    wanted = as_list(ev.param("standards"), "standards")

    def judge(rec: Record) -> Result:
        where = arn_region(rec.resource_id)
        if not rec.data.get("HubEnabled"):
            return Result.of(
                rec, passed=False, reason=f"{where}: Security Hub is off, so no standard is enabled"
            )
        ready = [
            _standard_name(s["StandardsArn"])
            for s in rec.data.get("StandardsSubscriptions") or []
            if s.get("StandardsStatus") == "READY"
        ]
        good = [name for name in ready if name.split("/", 1)[0] in wanted]
        shown = ", ".join(ready) or "none"
        return Result.of(
            rec,
            passed=bool(good),
            reason=f"{where}: standards enabled: {shown} (want one of {', '.join(wanted)})",
        )

    yield from judge_each(ev, STANDARDS, "Security Hub standards", judge)


# --- RDS ------------------------------------------------------------------------------------------


@check(
    "aws.rds.backup_replicated",
    title="RDS automated backups are replicated to another region",
    controls={
        "A.8.13": "A copy of the backups in a second region survives the loss of the first.",
        "A.5.30": "Cross-region backups are what restores the database when its region is unavailable.",
    },
    severity="minor",
    needs=[DATABASES],
    rationale="Backups kept only beside the database are lost with its region, or with its account's keys.",
    remediation="Start cross-region automated backup replication for the instance, retaining at least the "
    "required days.",
    params={"min_days": 7},
)
@or_nothing_to_judge("RDS instances")
def rds_backup_replicated(ev: Evidence) -> Iterator[Result]:
    """An instance passes with a live replica in another region kept at least `min_days`."""
    limit = int(ev.param("min_days"))
    for db in ev.records(DATABASES):
        name, engine = db.data["DBInstanceIdentifier"], str(db.data.get("Engine"))
        if CLUSTER_ENGINES.match(engine):
            yield Result.not_applicable(db, f"{name}: {engine} keeps backups per cluster")
            continue
        here = arn_region(db.resource_id)
        replicas = [r for r in db.data.get("BackupReplications") or [] if r.get("Region") != here]
        shown = [
            f"{r['Region']} {r.get('Status') or 'not found'}, kept {r.get('BackupRetentionPeriod') or 0} days"
            for r in replicas
        ]
        good = [
            r
            for r in replicas
            if r.get("Status") in LIVE_REPLICA and int(r.get("BackupRetentionPeriod") or 0) >= limit
        ]
        said = "; ".join(shown) if shown else "not replicated to another region"
        yield Result.of(db, passed=bool(good), reason=f"{name}: backups {said} (minimum {limit} days)")


# --- Organizations --------------------------------------------------------------------------------


def _environments(units: list[dict[str, Any]], mapping: dict[str, set[str]]) -> dict[str, list[str]]:
    """The environments whose configured OUs (by id or name) hold the account, with those OUs."""
    out: dict[str, list[str]] = {}
    for unit in units:
        keys = {str(unit.get("Id")).lower(), str(unit.get("Name")).lower()}
        for env, wanted in mapping.items():
            if keys & wanted:
                out.setdefault(env, []).append(str(unit.get("Name") or unit.get("Id")))
    return out


@check(
    "aws.organizations.environment_separation",
    title="Production and non-production workloads run in separate accounts",
    controls={
        "A.8.31": "Accounts are AWS's hard boundary: separate ones keep development and testing away "
        "from production.",
    },
    severity="minor",
    needs=[ACCOUNTS],
    rationale="An account that is both production and non-production exposes production data and access "
    "to test code and to the people who run it.",
    remediation="Move the account under only one environment's OU, splitting the workloads across accounts.",
    params={"production_ous": [], "nonproduction_ous": []},
)
@or_nothing_to_judge("member accounts")
def environment_separation(ev: Evidence) -> Iterator[Result]:
    """Each account under a mapped OU must be under one environment only; unmapped accounts do not apply."""
    mapping = {
        env: {ou.lower() for ou in as_list(ev.param(key), key)}
        for env, key in (("production", "production_ous"), ("non-production", "nonproduction_ous"))
    }
    if not all(mapping.values()):
        yield Result(
            ev.scope,
            Status.NOT_APPLICABLE,
            "environments are not mapped: set production_ous and nonproduction_ous (OU ids or names) under "
            '[checks.params."aws.organizations.environment_separation"]',
        )
        return
    for acct in ev.records(ACCOUNTS):
        name = f"{acct.data.get('Name')} ({acct.data.get('Id')})"
        units = acct.data.get("OrganizationalUnits")
        if units is None:
            yield Result.error(acct.resource_id, f"{name}: its organizational units were not collected")
            continue
        envs = _environments(units, mapping)
        placed = "; ".join(f"{env} through {', '.join(ous)}" for env, ous in envs.items())
        if not envs:
            path = " / ".join(str(u.get("Name") or u.get("Id")) for u in units) or "the root"
            yield Result.not_applicable(acct, f"{name} sits under {path}, in no mapped environment")
        else:
            both = len(envs) > 1
            said = f"is in both environments: {placed}" if both else f"is {placed}"
            yield Result.of(acct, passed=not both, reason=f"{name} {said}")
