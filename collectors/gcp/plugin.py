"""GCP: importing this module (the `annexa.collectors` entry point) declares the system's
target resolvers and collectors."""

from __future__ import annotations

from collectors.gcp import buckets, iam_policies, keys, permissions, targets

__all__ = ["buckets", "iam_policies", "keys", "permissions", "targets"]
