"""Which GCP resources to collect from: one target per organisation (the evidence scope).

Scope `gcp:organizations/123` holds the policies of the organisation, of every folder and of
every project under it, each a record naming where it sits (ancestors) and, for organisations
and folders, how many projects inherit from it. So a grant is judged once, on the resource that
sets it, and a check can still walk from a project to its ancestors' policies. An unreadable
project is an error record of its own (an `error` result for that project only), not a failed
scope. One scope per organisation, rather than one per project, keeps the cost of a run (one
observation and one evaluation per check per organisation) flat as projects grow into the
thousands. Projects outside any visible organisation are each a root of their own
(`gcp:projects/<id>`).

`gcp_hierarchy` feeds the IAM policies; `gcp_deep_inventory` the optional service-account key
and bucket inventories, only when `[gcp] deep_inventory` is on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from agent.errors import CollectorError
from agent.plugin import scope_kind
from agent.plugin.model import Record
from collectors.gcp.client import GcpApi
from collectors.gcp.hierarchy import PROJECT, Node, list_hierarchy
from collectors.gcp.settings import GcpSettings


@dataclass(frozen=True)
class Placed:
    """A resource with its place in the hierarchy."""

    node: Node
    ancestors: tuple[str, ...]
    projects_below: int

    @property
    def project_id(self) -> str:
        return self.node.name.removeprefix("projects/")


@dataclass(frozen=True)
class GcpRoot:
    """An organisation (or a project outside any) and every resource under it."""

    api: GcpApi = field(repr=False, compare=False)
    root: Node
    resources: tuple[Placed, ...]

    @property
    def scope(self) -> str:
        return f"gcp:{self.root.name}"

    @property
    def projects(self) -> list[Placed]:
        return [p for p in self.resources if p.node.kind == PROJECT]

    def per_project(self, listing: Callable[[Placed], list[Record]]) -> Iterator[Record]:
        """`listing` for every project, concurrently; a project whose calls fail is one error
        record of its own, so it alone reports `error` and the others are still judged."""
        for project, outcome in self.api.fan_out(self.projects, listing):
            if isinstance(outcome, CollectorError):
                yield Record(project.node.name, {"project": project.project_id, "error": str(outcome)})
            else:
                yield from outcome


def _roots(settings: GcpSettings) -> Iterator[GcpRoot]:
    api = GcpApi(settings)
    tree = list_hierarchy(api)
    below = tree.projects_below()
    for root in tree.roots():
        placed = tuple(Placed(n, tree.ancestors(n), below[n.name]) for n in tree.under(root))
        yield GcpRoot(api, root, placed)


@scope_kind("gcp_hierarchy", system="gcp")
def gcp_hierarchy(settings: GcpSettings) -> Iterator[GcpRoot]:
    """Every organisation (configured, else visible) with its folders and active projects."""
    yield from _roots(settings)


@scope_kind("gcp_deep_inventory", system="gcp", when=lambda settings: settings.deep_inventory)
def gcp_deep_inventory(settings: GcpSettings) -> Iterator[GcpRoot]:
    """The same roots, only when `[gcp] deep_inventory` is on (else its collectors and checks are off)."""
    yield from _roots(settings)
