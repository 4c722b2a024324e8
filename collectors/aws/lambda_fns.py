"""Lambda evidence, per region: each function's runtime (`lambda` itself is a Python keyword)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from operator import itemgetter
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, permissions

DAY = timedelta(hours=24)
FUNCTIONS = Api("list_functions", "lambda:ListFunctions", items="Functions")


def _function(fn: dict[str, Any]) -> dict[str, Any]:
    """Container-image functions have no `Runtime`: their runtime is in the image, out of Lambda's sight."""
    return fields(fn, "FunctionName", "Runtime", "PackageType", "LastModified")


@collector("aws.lambda.functions", scope="aws_region", freshness=DAY, permissions=permissions(FUNCTIONS))
def functions(ctx: AwsRegion) -> Iterator[Record]:
    """Functions with their runtime identifier and package type."""
    yield from FUNCTIONS.records(ctx.client("lambda"), itemgetter("FunctionArn"), _function)
