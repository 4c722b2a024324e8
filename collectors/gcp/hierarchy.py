"""The resource hierarchy: organisations, the folder tree under them, and every project.

Listed once per run when targets are resolved, so each organisation, folder and project can be
collected (and judged) in its own scope, knowing its ancestors and how many projects inherit
from it. Only ACTIVE resources are kept: a project pending deletion serves nothing.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from google.cloud import resourcemanager_v3

from agent.errors import InputDataError
from agent.logs import get_logger
from collectors.gcp.client import GcpApi

log = get_logger()

ORGANIZATION, FOLDER, PROJECT = "organization", "folder", "project"


@dataclass(frozen=True)
class Node:
    kind: str
    name: str  # organizations/1, folders/2, projects/<project id>
    display_name: str
    parent: str  # "" for an organisation


@dataclass
class Hierarchy:
    nodes: dict[str, Node] = field(default_factory=dict)

    def add(self, node: Node) -> None:
        self.nodes[node.name] = node

    def ancestors(self, node: Node) -> tuple[str, ...]:
        """The parent chain, nearest first, as far as it is visible to the caller."""
        chain: list[str] = []
        parent = node.parent
        while parent and parent not in chain:
            chain.append(parent)
            parent = self.nodes[parent].parent if parent in self.nodes else ""
        return tuple(chain)

    def projects_below(self) -> Counter[str]:
        """How many projects inherit from each organisation and folder."""
        counts: Counter[str] = Counter()
        for node in self.nodes.values():
            if node.kind == PROJECT:
                counts.update(self.ancestors(node))
        return counts

    def roots(self) -> list[Node]:
        """Organisations, and projects whose ancestry reaches no visible organisation."""
        return [
            n
            for n in self.nodes.values()
            if n.kind == ORGANIZATION
            or (n.kind == PROJECT and not any(a.startswith("organizations/") for a in self.ancestors(n)))
        ]

    def under(self, root: Node) -> list[Node]:
        """The root and everything whose ancestry includes it, organisation first."""
        return [n for n in self.nodes.values() if n is root or root.name in self.ancestors(n)]

    def of_kind(self, kind: str) -> Iterator[Node]:
        return (n for n in self.nodes.values() if n.kind == kind)


def _required(value: str, what: str) -> str:
    if not value:
        raise InputDataError(f"Resource Manager returned {what}")
    return value


def _organization(org: resourcemanager_v3.Organization) -> Node:
    name = _required(org.name, "an organization without a name")
    return Node(ORGANIZATION, name, org.display_name or name, "")


def _folder(folder: resourcemanager_v3.Folder) -> Node:
    name = _required(folder.name, "a folder without a name")
    return Node(
        FOLDER, name, folder.display_name or name, _required(folder.parent, f"{name} without a parent")
    )


def _project(project: resourcemanager_v3.Project) -> Node:
    project_id = _required(project.project_id, f"{project.name or 'a project'} without a project id")
    return Node(PROJECT, f"projects/{project_id}", project.display_name or project_id, project.parent)


def _organizations(api: GcpApi) -> Iterator[Node]:
    client = api.organizations()
    timeout = api.settings.timeout
    if api.settings.organization_ids:
        for org_id in api.settings.organization_ids:
            name = f"organizations/{org_id}"
            yield _organization(
                api.call(f"resourcemanager.organizations.get {name}",
                         partial(client.get_organization, name=name, retry=None, timeout=timeout))
            )  # fmt: skip
        return

    def page(token: str) -> tuple[list[Any], str]:
        pager = client.search_organizations(request={"page_token": token}, retry=None, timeout=timeout)
        return list(pager.organizations), pager.next_page_token

    for org in api.pages("resourcemanager.organizations.search", page):
        if org.state == resourcemanager_v3.Organization.State.ACTIVE:
            yield _organization(org)


def _folders_under(api: GcpApi, roots: list[str]) -> Iterator[Node]:
    """Breadth-first through the folder tree: one paged listing per organisation or folder."""
    client = api.folders()
    timeout = api.settings.timeout
    queue = deque(roots)
    while queue:
        parent = queue.popleft()

        def page(token: str, parent: str = parent) -> tuple[list[Any], str]:
            pager = client.list_folders(
                request={"parent": parent, "page_token": token}, retry=None, timeout=timeout
            )
            return list(pager.folders), pager.next_page_token

        for folder in api.pages(f"resourcemanager.folders.list {parent}", page):
            if folder.state == resourcemanager_v3.Folder.State.ACTIVE:
                node = _folder(folder)
                queue.append(node.name)
                yield node


def _projects(api: GcpApi) -> Iterator[resourcemanager_v3.Project]:
    client = api.projects()
    timeout = api.settings.timeout
    if api.settings.project_ids:
        for project_id in api.settings.project_ids:
            name = f"projects/{project_id}"
            yield api.call(f"resourcemanager.projects.get {name}",
                           partial(client.get_project, name=name, retry=None, timeout=timeout))  # fmt: skip
        return

    def page(token: str) -> tuple[list[Any], str]:
        pager = client.search_projects(
            request={"query": "", "page_token": token}, retry=None, timeout=timeout
        )
        return list(pager.projects), pager.next_page_token

    yield from api.pages("resourcemanager.projects.search", page)


def list_hierarchy(api: GcpApi) -> Hierarchy:
    """Organisations (configured, else all visible), their folder trees, and their active projects.

    With organisations configured (and projects not listed), a project whose ancestry reaches
    none of them is left out: it belongs to another one, or sits in a folder the caller cannot
    see. Otherwise such a project is collected as a root of its own.
    """
    tree = Hierarchy()
    orgs = list(_organizations(api))
    for org in orgs:
        tree.add(org)
    for folder in _folders_under(api, [o.name for o in orgs]):
        tree.add(folder)
    roots = {o.name for o in orgs}
    scoped = bool(api.settings.organization_ids) and not api.settings.project_ids
    for project in _projects(api):
        if project.state != resourcemanager_v3.Project.State.ACTIVE:
            continue
        node = _project(project)
        ancestry = tree.ancestors(node)
        if scoped and not roots.intersection(ancestry):
            log.info("gcp.project_outside_organizations", project=node.name, parent=node.parent)
            continue
        tree.add(node)
    log.info(
        "gcp.hierarchy",
        organizations=len(orgs),
        folders=sum(1 for _ in tree.of_kind(FOLDER)),
        projects=sum(1 for _ in tree.of_kind(PROJECT)),
    )
    return tree
