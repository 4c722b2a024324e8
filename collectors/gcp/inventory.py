"""What the deep-inventory collectors (buckets, service-account keys) share: in every project, list
one kind of resource through a discovery API, page by page, and record each one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from agent.plugin.model import Record
from collectors.gcp.client import GcpApi
from collectors.gcp.targets import GcpRoot, Placed

# Reads one listed resource into its record, with any per-resource call it needs made through
# the API and the discovery resource it was listed from.
Recorder = Callable[[GcpApi, Any, Placed, dict[str, Any]], Record]


def per_project(
    target: GcpRoot,
    resource: Callable[[GcpApi], Any],
    permission: str,
    request: Callable[[Any, Placed, str | None], Any],
    items: str,
    record: Recorder,
) -> Iterator[Record]:
    """Every project's resources of one kind: `request(resource, project, page_token)` builds the
    request for one page of the listing (no token for the first), its resources are under `items`,
    and each page is one retried call named `permission project` in errors. A project whose calls
    fail is one error record of its own."""

    def project_records(project: Placed) -> list[Record]:
        client = resource(target.api)

        def page(token: str) -> tuple[list[Any], str]:
            doc = request(client, project, token or None).execute()
            return doc.get(items, []), doc.get("nextPageToken", "")

        listing = target.api.pages(f"{permission} {project.node.name}", page)
        return [record(target.api, client, project, item) for item in listing]

    return target.per_project(project_records)
