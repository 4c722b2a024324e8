"""AWS Backup checks: regions holding data have a backup plan, and vaults are locked."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result
from checks._judging import flag, or_nothing_to_judge
from checks.aws._common import arn_region, judge_each

BACKUP_PLANS = "aws.backup.plans"
BACKUP_VAULTS = "aws.backup.vaults"
VOLUMES = "aws.ec2.volumes"
DATABASES = "aws.rds.instances"


def _kept_long_enough(plan: Mapping[str, Any], limit: int) -> bool:
    """A rule without expiry keeps backups indefinitely, which satisfies any minimum."""
    return any(
        r.get("DeleteAfterDays") is None or int(r["DeleteAfterDays"]) >= limit
        for r in plan.get("Rules") or []
    )


@check(
    "aws.backup.plan_coverage",
    title="Regions holding volumes or databases have an AWS Backup plan",
    controls={
        "A.8.13": "Backup plans schedule the copies and their retention that the backup policy requires."
    },
    severity="minor",
    needs=[BACKUP_PLANS, VOLUMES, DATABASES],
    rationale="Without a backup plan, data on volumes and databases has no independent, scheduled copy.",
    remediation="Create a backup plan with a rule retaining copies for the required days, and assign the "
    "region's volumes and databases to it (by tag or resource type).",
    params={"min_retention_days": 7},
)
def backup_plan_coverage(ev: Evidence) -> Iterator[Result]:
    """A region with data stores needs a plan whose rules keep copies at least `min_retention_days`."""
    limit = int(ev.param("min_retention_days"))
    stores = len(ev.records(VOLUMES)) + len(ev.records(DATABASES))

    def judge(rec: Record) -> Result:
        where = arn_region(rec.resource_id)
        if not stores:
            return Result.not_applicable(rec, f"{where} holds no EBS volume or RDS database")
        good = [p["BackupPlanName"] for p in rec.data.get("plans") or [] if _kept_long_enough(p, limit)]
        if good:
            return Result.of(
                rec, passed=True, reason=f"{where}: backup plans {', '.join(good)} keep copies {limit}+ days"
            )
        count = len(rec.data.get("plans") or [])
        reason = f"{where} has {stores} volumes/databases and no backup plan keeping copies {limit}+ days"
        return Result.of(rec, passed=False, reason=reason + (f" ({count} plans fall short)" if count else ""))

    yield from judge_each(ev, BACKUP_PLANS, "AWS Backup plans", judge)


@check(
    "aws.backup.vault_lock",
    title="Backup vaults are locked against deletion",
    controls={"A.8.13": "Vault Lock makes backup copies immutable, so an attacker cannot delete them."},
    severity="ofi",
    needs=[BACKUP_VAULTS],
    rationale="Ransomware operators delete backups first; a locked vault keeps them out of reach.",
    remediation="Apply a Vault Lock (governance or compliance mode) with a minimum retention.",
)
@or_nothing_to_judge("backup vaults")
def backup_vault_lock(ev: Evidence) -> Iterator[Result]:
    """Vaults holding recovery points should be locked."""
    judge = flag(
        "Locked", lambda vault, on: f"{vault.data['BackupVaultName']} is {'' if on else 'not '}locked"
    )
    yield from map(judge, ev.records(BACKUP_VAULTS))
