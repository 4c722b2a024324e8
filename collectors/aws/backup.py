"""AWS Backup evidence, per region: backup plans with their rules' retention, and backup vaults."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, permissions

DAY = timedelta(hours=24)
LIST_PLANS = Api("list_backup_plans", "backup:ListBackupPlans", items="BackupPlansList")
GET_PLAN = Api("get_backup_plan", "backup:GetBackupPlan")
LIST_VAULTS = Api("list_backup_vaults", "backup:ListBackupVaults", items="BackupVaultList")


@collector(
    "aws.backup.plans",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(LIST_PLANS, GET_PLAN),
)
def plans(ctx: AwsRegion) -> Iterator[Record]:
    """One record per region listing its backup plans and rules; an empty list is evidence too."""
    client = ctx.client("backup")
    listed = []
    for summary in LIST_PLANS.pages(client):
        plan = GET_PLAN(client, BackupPlanId=summary["BackupPlanId"])["BackupPlan"]
        listed.append(
            {
                "BackupPlanName": plan.get("BackupPlanName"),
                "BackupPlanArn": summary.get("BackupPlanArn"),
                "Rules": [
                    {
                        "RuleName": r.get("RuleName"),
                        "ScheduleExpression": r.get("ScheduleExpression"),
                        "DeleteAfterDays": r.get("Lifecycle", {}).get("DeleteAfterDays"),
                    }
                    for r in plan.get("Rules", [])
                ],
            }
        )
    yield Record(resource_id=ctx.arn("backup", "backup-plans"), data={"plans": listed})


@collector("aws.backup.vaults", scope="aws_region", freshness=DAY, permissions=permissions(LIST_VAULTS))
def vaults(ctx: AwsRegion) -> Iterator[Record]:
    """Backup vaults with their encryption key and whether Vault Lock makes their copies immutable."""
    for vault in LIST_VAULTS.pages(ctx.client("backup")):
        yield Record(
            resource_id=vault["BackupVaultArn"],
            data={
                "BackupVaultName": vault["BackupVaultName"],
                "EncryptionKeyArn": vault.get("EncryptionKeyArn"),
                "Locked": bool(vault.get("Locked")),
                "NumberOfRecoveryPoints": vault.get("NumberOfRecoveryPoints", 0),
            },
        )
