"""IAM policies set on the organisation, every folder and every project under it.

One record per resource, naming its ancestors (and, above projects, how many projects inherit
from it): inherited grants are evidenced where they are set. The calls fan out on the shared
bounded pool; a policy that cannot be read becomes a record carrying the error, so checks give
`error` for that resource alone. Policy version 3 is requested so conditions come back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from google.cloud import resourcemanager_v3
from google.iam.v1 import iam_policy_pb2, options_pb2

from agent.errors import CollectorError
from agent.plugin import collector
from agent.plugin.model import Record
from collectors.gcp import bindings
from collectors.gcp.client import GcpApi
from collectors.gcp.hierarchy import FOLDER, ORGANIZATION, PROJECT, Node
from collectors.gcp.targets import GcpRoot, Placed

POLICY_VERSION = 3
PERMISSIONS = {
    ORGANIZATION: "resourcemanager.organizations.getIamPolicy",
    FOLDER: "resourcemanager.folders.getIamPolicy",
    PROJECT: "resourcemanager.projects.getIamPolicy",
}
ResourceClient = (
    resourcemanager_v3.OrganizationsClient
    | resourcemanager_v3.FoldersClient
    | resourcemanager_v3.ProjectsClient
)


def _bindings(api: GcpApi, node: Node) -> list[dict[str, Any]]:
    clients: dict[str, Callable[[], ResourceClient]] = {
        ORGANIZATION: api.organizations,
        FOLDER: api.folders,
        PROJECT: api.projects,
    }
    client = clients[node.kind]()
    request = iam_policy_pb2.GetIamPolicyRequest(
        resource=node.name, options=options_pb2.GetPolicyOptions(requested_policy_version=POLICY_VERSION)
    )
    policy = api.call(
        f"{PERMISSIONS[node.kind]} {node.name}",
        lambda: client.get_iam_policy(request=request, retry=None, timeout=api.settings.timeout),
    )
    return bindings.from_proto(policy, node.name)


def _placement(placed: Placed) -> dict[str, Any]:
    """Where a resource sits: what every record about it says, readable or not."""
    node = placed.node
    data: dict[str, Any] = {
        "resource": node.name,
        "kind": node.kind,
        "display_name": node.display_name,
        "ancestors": list(placed.ancestors),
    }
    if node.kind != PROJECT:
        data["projects_below"] = placed.projects_below
    return data


@collector(
    "gcp.iam.policies",
    scope="gcp_hierarchy",
    freshness=timedelta(hours=24),
    permissions=[
        "resourcemanager.organizations.get",
        "resourcemanager.folders.list",
        "resourcemanager.projects.get",
        *PERMISSIONS.values(),
    ],
)
def policies(target: GcpRoot) -> Iterator[Record]:
    """The IAM policy of the organisation and of each folder and project, with its place in the tree."""
    for placed, outcome in target.api.fan_out(target.resources, lambda p: _bindings(target.api, p.node)):
        data = _placement(placed)
        if isinstance(outcome, CollectorError):
            data["error"] = str(outcome)
        else:
            data["bindings"] = outcome
        yield Record(resource_id=placed.node.name, data=data)
