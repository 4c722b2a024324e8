"""AWS Backup evidence, per region: backup plans with their rules' retention, and backup vaults."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from operator import itemgetter
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, permissions

DAY = timedelta(hours=24)
LIST_PLANS = Api("list_backup_plans", "backup:ListBackupPlans", items="BackupPlansList")
GET_PLAN = Api("get_backup_plan", "backup:GetBackupPlan")
LIST_VAULTS = Api("list_backup_vaults", "backup:ListBackupVaults", items="BackupVaultList")


def _plan(client: Any, summary: dict[str, Any]) -> dict[str, Any]:
    """A plan with its rules' schedule and retention, which only its own call returns."""
    plan = GET_PLAN(client, BackupPlanId=summary["BackupPlanId"])["BackupPlan"]
    return {
        "BackupPlanName": plan.get("BackupPlanName"),
        "BackupPlanArn": summary.get("BackupPlanArn"),
        "Rules": [
            {
                **fields(r, "RuleName", "ScheduleExpression"),
                "DeleteAfterDays": r.get("Lifecycle", {}).get("DeleteAfterDays"),
            }
            for r in plan.get("Rules", [])
        ],
    }


def _vault(vault: dict[str, Any]) -> dict[str, Any]:
    """A vault with its key and whether Vault Lock makes its copies immutable."""
    return {
        "BackupVaultName": vault["BackupVaultName"],
        "EncryptionKeyArn": vault.get("EncryptionKeyArn"),
        "Locked": bool(vault.get("Locked")),
        "NumberOfRecoveryPoints": vault.get("NumberOfRecoveryPoints", 0),
    }


@collector(
    "aws.backup.plans",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(LIST_PLANS, GET_PLAN),
)
def plans(ctx: AwsRegion) -> Iterator[Record]:
    """One record per region listing its backup plans and rules; an empty list is evidence too."""
    yield ctx.listing("backup", "backup-plans", "plans", LIST_PLANS, _plan)


@collector("aws.backup.vaults", scope="aws_region", freshness=DAY, permissions=permissions(LIST_VAULTS))
def vaults(ctx: AwsRegion) -> Iterator[Record]:
    """Backup vaults with their encryption key and whether Vault Lock makes their copies immutable."""
    yield from LIST_VAULTS.records(ctx.client("backup"), itemgetter("BackupVaultArn"), _vault)
