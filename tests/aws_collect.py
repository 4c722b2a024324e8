"""What the AWS collector tests build their targets with and read their records through."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from collectors.aws.session import AwsAccount
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
