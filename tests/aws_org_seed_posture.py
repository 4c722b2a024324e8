"""The posture and access checks' part of the seeded Organization (tests/aws_org_seed.py): ECR
repositories seeded in moto, and the verdicts every other new check reaches on the shared seed.

moto 5.2 lacks SSM's DescribeInstanceInformation, Access Analyzer and Security Hub's
GetEnabledStandards: those sources fail, so their checks are `error`, never a pass. Every other
new check has nothing to judge there and is left to `_empty_outcomes` (not applicable).
"""

from __future__ import annotations

from typing import Any

from tests.aws_org_seed import ERROR, FAIL, PASS, REGIONS, SeededOrg


def seed(org: SeededOrg, acct: str, region: str, client: Any, good: bool) -> None:
    """Region 0 scans and pins its images, region 1 does neither; the rest follows the shared seed."""
    scope = f"aws:{acct}:{region}"
    ecr = client("ecr", region)
    repo = ecr.create_repository(
        repositoryName="app",
        imageTagMutability="IMMUTABLE" if good else "MUTABLE",
        imageScanningConfiguration={"scanOnPush": good},
    )["repository"]["repositoryArn"]
    verdict = PASS if good else FAIL
    org.put("aws.ecr.image_scan_on_push", scope, repo, verdict)
    org.put("aws.ecr.tag_immutability", scope, repo, verdict)
    for check_id in (
        "aws.ssm.patch_compliance",
        "aws.accessanalyzer.enabled",
        "aws.accessanalyzer.external_access_findings",
    ):
        org.put(check_id, scope, scope, ERROR)
    # Security Hub is on in region 0 (its standards cannot be read from moto) and off in region 1.
    hub = scope if good else f"arn:aws:securityhub:{region}:{acct}:standards"
    org.put("aws.securityhub.standards_enabled", scope, hub, ERROR if good else FAIL)
    for name in ("db-good", "db-bad"):  # no backup replication in moto
        org.put("aws.rds.backup_replicated", scope, f"arn:aws:rds:{region}:{acct}:db:{name}", FAIL)
    if region == REGIONS[0] and acct != org.management:
        # Organizations creates this role in each new member, trusting the management account with no
        # ExternalId: it fails until the management account is listed in trusted_accounts.
        role = f"arn:aws:iam::{acct}:role/OrganizationAccountAccessRole"
        org.put("aws.iam.role_trust", f"aws:{acct}", role, FAIL)
