"""AWS: importing this module (the `annexa.collectors` entry point) declares the system's
target resolvers and collectors."""

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
    policy,
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
    "policy",
    "rds",
    "s3",
    "securityhub",
    "targets",
]
