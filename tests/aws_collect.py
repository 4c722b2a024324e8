"""What the AWS collector tests build their targets with and read their records through."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import boto3

from collectors.aws.session import AwsAccount, AwsRegion
from collectors.aws.settings import AwsSettings
from collectors.aws.targets import aws_accounts


def aws_settings(**aws: Any) -> AwsSettings:
    """An enabled `[aws]` section with the options given."""
    return AwsSettings(enabled=True, **aws)


def single_account(**aws: Any) -> AwsAccount:
    """The one account such settings name (the caller's own, unless told otherwise)."""
    (account,) = aws_accounts(aws_settings(**aws))
    return account


def collected(collector: Callable[[Any], Iterable[Any]], target: Any) -> dict[str, dict[str, Any]]:
    """A collector's records for `target` by resource id: each resource once, its evidence JSON-able."""
    out: dict[str, dict[str, Any]] = {}
    for rec in collector(target):
        assert rec.resource_id not in out
        json.dumps(rec.data)  # evidence must be JSON-able as collected
        out[rec.resource_id] = rec.data
    return out


def seeder(target: AwsAccount | AwsRegion, service: str, **options: Any) -> Any:
    """A client with every call of `service`, the target's credentials and region, to seed moto:
    the target's own clients hold only the calls collectors declare (collectors/aws/models.py)."""
    account = target.account if isinstance(target, AwsRegion) else target
    region = target.region if isinstance(target, AwsRegion) else account.home_region
    creds = account.session.get_credentials().get_frozen_credentials()
    return boto3.client(
        service,
        region_name=region,
        aws_access_key_id=creds.access_key,
        aws_secret_access_key=creds.secret_key,
        aws_session_token=creds.token,
        **options,
    )
