"""Deep inventory: each Cloud Storage bucket of every project with its IAM policy (JSON API v1).

Bucket IAM is set on the bucket, not inherited from the project, so it is collected per bucket.
Object ACLs (buckets without uniform bucket-level access) are not read; the record says whether
uniform access is on, so that gap is visible. A project whose buckets cannot be read is one
record carrying the error.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.errors import InputDataError
from agent.plugin import collector
from agent.plugin.model import Record
from collectors.gcp import bindings
from collectors.gcp.client import GcpApi
from collectors.gcp.inventory import per_project
from collectors.gcp.targets import GcpRoot, Placed

POLICY_VERSION = 3


def _bucket(api: GcpApi, buckets: Any, project: Placed, bucket: dict[str, Any]) -> Record:
    """A listed bucket with its IAM policy, which takes a call of its own per bucket."""
    name = bucket.get("name")
    if not isinstance(name, str) or not name:
        raise InputDataError(f"Cloud Storage: a bucket of {project.node.name} has no name")
    policy = api.call(
        f"storage.buckets.getIamPolicy {name}",
        lambda: buckets.getIamPolicy(bucket=name, optionsRequestedPolicyVersion=POLICY_VERSION).execute(),
    )
    iam_config = bucket.get("iamConfiguration") or {}
    data = {
        "bucket": name,
        "project": project.project_id,
        "public_access_prevention": iam_config.get("publicAccessPrevention", "inherited"),
        "uniform_access": bool((iam_config.get("uniformBucketLevelAccess") or {}).get("enabled")),
        "bindings": bindings.normalize(policy.get("bindings", []), name),
    }
    return Record(resource_id=f"projects/_/buckets/{name}", data=data)


@collector(
    "gcp.storage.bucket_policies",
    scope="gcp_deep_inventory",
    freshness=timedelta(hours=24),
    permissions=["storage.buckets.list", "storage.buckets.getIamPolicy"],
)
def bucket_policies(target: GcpRoot) -> Iterator[Record]:
    """Each bucket: its IAM bindings, public access prevention, uniform bucket-level access."""
    yield from per_project(
        target,
        lambda api: api.discovery("storage").buckets(),
        "storage.buckets.list",
        lambda buckets, project, token: buckets.list(project=project.project_id, pageToken=token),
        "items",
        _bucket,
    )
