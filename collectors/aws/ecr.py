"""ECR evidence, per region: repositories' tag mutability and scan-on-push, and the registry's
scanning configuration (whose rules can scan repositories whatever their own setting says).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from operator import itemgetter
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, permissions

DAY = timedelta(hours=24)
REPOSITORIES = Api("describe_repositories", "ecr:DescribeRepositories", items="repositories")
REGISTRY_SCANNING = Api("get_registry_scanning_configuration", "ecr:GetRegistryScanningConfiguration")


def _repository(repo: dict[str, Any]) -> dict[str, Any]:
    return {
        **fields(repo, "repositoryName", "imageTagMutability"),
        "imageTagMutabilityExclusionFilters": [
            f.get("filter") for f in repo.get("imageTagMutabilityExclusionFilters", [])
        ],
        "scanOnPush": bool(repo.get("imageScanningConfiguration", {}).get("scanOnPush")),
    }


@collector("aws.ecr.repositories", scope="aws_region", freshness=DAY, permissions=permissions(REPOSITORIES))
def repositories(ctx: AwsRegion) -> Iterator[Record]:
    """Private repositories with their tag mutability and their own scan-on-push setting."""
    yield from REPOSITORIES.records(ctx.client("ecr"), itemgetter("repositoryArn"), _repository)


@collector(
    "aws.ecr.registry_scanning",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(REGISTRY_SCANNING),
)
def registry_scanning(ctx: AwsRegion) -> Iterator[Record]:
    """The registry's scan type (BASIC or ENHANCED) and its rules: which repositories each scans, how often."""
    config = REGISTRY_SCANNING(ctx.client("ecr")).get("scanningConfiguration", {})
    yield Record(
        resource_id=ctx.arn("ecr", "registry-scanning-configuration"),
        data={
            "scanType": config.get("scanType"),
            "rules": [
                {
                    "scanFrequency": rule.get("scanFrequency"),
                    "repositoryFilters": [f.get("filter") for f in rule.get("repositoryFilters", [])],
                }
                for rule in config.get("rules", [])
            ],
        },
    )
