"""AWS collectors (boto3); importing this package registers the AWS scope kinds and sources."""

from __future__ import annotations

from collectors.aws import (
    account,
    aws_config,
    backup,
    cloudtrail,
    ec2,
    guardduty,
    iam,
    inspector,
    kms,
    organizations,
    rds,
    s3,
    securityhub,
    targets,
)

__all__ = [
    "account",
    "aws_config",
    "backup",
    "cloudtrail",
    "ec2",
    "guardduty",
    "iam",
    "inspector",
    "kms",
    "organizations",
    "rds",
    "s3",
    "securityhub",
    "targets",
]
