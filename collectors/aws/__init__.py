"""AWS collectors (boto3); importing this package registers the `aws_account` targets and sources."""

from __future__ import annotations

from collectors.aws import iam, targets

__all__ = ["iam", "targets"]
