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
from collectors.gcp.targets import GcpRoot, Placed

POLICY_VERSION = 3


def _project_buckets(api: GcpApi, project: Placed) -> list[Record]:
    buckets = api.discovery("storage").buckets()

    def page(token: str) -> tuple[list[Any], str]:
        doc = buckets.list(project=project.project_id, pageToken=token or None).execute()
        return doc.get("items", []), doc.get("nextPageToken", "")

    records = []
    for bucket in api.pages(f"storage.buckets.list {project.node.name}", page):
        name = bucket.get("name")
        if not isinstance(name, str) or not name:
            raise InputDataError(f"Cloud Storage: a bucket of {project.node.name} has no name")
        policy = api.call(
            f"storage.buckets.getIamPolicy {name}",
            lambda n=name: buckets.getIamPolicy(
                bucket=n, optionsRequestedPolicyVersion=POLICY_VERSION
            ).execute(),
        )
        iam_config = bucket.get("iamConfiguration") or {}
        data = {
            "bucket": name,
            "project": project.project_id,
            "public_access_prevention": iam_config.get("publicAccessPrevention", "inherited"),
            "uniform_access": bool((iam_config.get("uniformBucketLevelAccess") or {}).get("enabled")),
            "bindings": bindings.normalize(policy.get("bindings", []), name),
        }
        records.append(Record(resource_id=f"projects/_/buckets/{name}", data=data))
    return records


@collector(
    "gcp.storage.bucket_policies",
    scope="gcp_deep_inventory",
    freshness=timedelta(hours=24),
    permissions=["storage.buckets.list", "storage.buckets.getIamPolicy"],
)
def bucket_policies(target: GcpRoot) -> Iterator[Record]:
    """Each bucket: its IAM bindings, public access prevention, uniform bucket-level access."""
    yield from target.per_project(lambda p: _project_buckets(target.api, p))
