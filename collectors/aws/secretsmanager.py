"""Secrets Manager evidence, per region: each secret's rotation settings and when it last changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from operator import itemgetter
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, iso, permissions

DAY = timedelta(hours=24)
SECRETS = Api("list_secrets", "secretsmanager:ListSecrets", items="SecretList")


def _secret(secret: dict[str, Any]) -> dict[str, Any]:
    """Rotation as ListSecrets reports it (no secret value is ever read)."""
    return {
        **fields(secret, "Name", "OwningService"),
        "RotationEnabled": bool(secret.get("RotationEnabled")),
        "AutomaticallyAfterDays": (secret.get("RotationRules") or {}).get("AutomaticallyAfterDays"),
        **{key: iso(secret.get(key)) for key in ("LastRotatedDate", "CreatedDate")},
    }


@collector("aws.secretsmanager.secrets", scope="aws_region", freshness=DAY, permissions=permissions(SECRETS))
def secrets(ctx: AwsRegion) -> Iterator[Record]:
    """Secrets with rotation on or off, its interval, and the last rotation and creation dates."""
    yield from SECRETS.records(ctx.client("secretsmanager"), itemgetter("ARN"), _secret)
