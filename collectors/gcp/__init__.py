"""GCP collectors (google-cloud-resource-manager over REST; IAM and Storage through discovery).

Importing this package registers the `gcp_resource` and `gcp_project` targets and the sources.
"""

from __future__ import annotations

from collectors.gcp import buckets, iam_policies, keys, targets

__all__ = ["buckets", "iam_policies", "keys", "targets"]
