"""A loopback HTTP server speaking the JSON of the Google APIs the GCP collectors call.

Resource Manager v3 (organizations, folders, projects and their IAM policies), IAM v1 (service
accounts and their keys) and Cloud Storage JSON v1 (buckets and bucket IAM), as the real SDK
clients send them: paging with `pageToken`/`nextPageToken`, unknown query parameters such as
`$alt=json;enum-encoding=int` ignored, enums as integers, base64 etags, Google's error body.
Faults (403, 429, 500, malformed JSON) are injected per request path for the tests; `gather`
holds requests until that many are being answered at once, so a test sees a client's concurrency
without timing; `latency` stands in for the real API's round trip in the benchmark.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from simulators.localserver import Fault, LocalServer, Reply, Request

ACTIVE = 1  # Organization/Folder/Project.State.ACTIVE with enum-encoding=int
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def etag(value: Any) -> str:
    """A valid base64 etag derived from the content, as the clients decode etags to bytes."""
    digest = hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).digest()[:8]
    return base64.b64encode(digest).decode()


def binding(role: str, *members: str, condition: dict[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"role": role, "members": list(members)}
    if condition:
        out["condition"] = condition
    return out


@dataclass
class GcpWorld:
    """The state the server answers from; tests and the benchmark fill it directly."""

    organizations: dict[str, dict[str, Any]] = field(default_factory=dict)  # "organizations/1" -> fields
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)  # "folders/2" -> parent, displayName
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)  # project id -> parent, number, ...
    policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # resource name -> bindings
    service_accounts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # project id -> SAs
    buckets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # project id -> buckets
    faults: dict[str, Fault] = field(default_factory=dict)  # regex on "METHOD /path" -> fault
    page_size: int = 3  # when the client names none: small, so tests page
    latency: float = 0.0
    gather: int = 0  # hold each request until this many have been answered at once

    def add_organization(self, org_id: str, display_name: str) -> str:
        name = f"organizations/{org_id}"
        self.organizations[name] = {"displayName": display_name, "directoryCustomerId": "C0abc123"}
        return name

    def add_folder(self, folder_id: str, parent: str, display_name: str) -> str:
        name = f"folders/{folder_id}"
        self.folders[name] = {"parent": parent, "displayName": display_name}
        return name

    def add_project(self, project_id: str, parent: str, *, state: int = ACTIVE) -> str:
        number = str(100000000000 + len(self.projects))
        self.projects[project_id] = {"parent": parent, "number": number, "state": state}
        return f"projects/{project_id}"


def _find(items: list[dict[str, Any]], key: str, value: str) -> dict[str, Any]:
    for item in items:
        if item[key] == value:
            return item
    raise LookupError(value)


class GcpServer(LocalServer):
    """`with GcpServer(world) as server:` serves `world` on `server.url` from a daemon thread."""

    def __init__(self, world: GcpWorld) -> None:
        self.world = world
        super().__init__(pace=world)  # `gather` and `latency` are the world's, set there at any time

    # --- Google's own plumbing --------------------------------------------------------------------
    def faults_for(self, request: Request) -> list[Fault]:
        return [f for pattern, f in self.world.faults.items() if re.search(pattern, request.key)]

    def error(self, status: int, message: str) -> Reply:
        doc = {"code": status, "message": message, "status": STATUS_NAMES.get(status, "UNKNOWN")}
        return Reply(status, {"error": doc})

    def content_type(self, reply: Reply) -> str:
        return "application/json; charset=UTF-8"

    # --- paging ---------------------------------------------------------------------------------
    def _page(self, items: list[dict[str, Any]], query: dict[str, str], key: str, size_param: str) -> Reply:
        size = int(query.get(size_param) or self.world.page_size)
        start = int(query.get("pageToken") or 0)
        doc: dict[str, Any] = {key: items[start : start + size]} if items else {}
        if start + size < len(items):
            doc["nextPageToken"] = str(start + size)
        return Reply(200, doc)

    # --- resources as the APIs render them --------------------------------------------------------
    def _org(self, name: str) -> dict[str, Any]:
        org = self.world.organizations[name]
        doc = {"name": name, "state": ACTIVE, **org}
        return doc | {"etag": etag(doc)}

    def _folder(self, name: str) -> dict[str, Any]:
        doc = {"name": name, "state": ACTIVE, **self.world.folders[name]}
        return doc | {"etag": etag(doc)}

    def _project(self, project_id: str) -> dict[str, Any]:
        p = self.world.projects[project_id]
        doc = {
            "name": f"projects/{p['number']}",
            "parent": p["parent"],
            "projectId": project_id,
            "state": p["state"],
            "displayName": p.get("displayName", project_id),
            "createTime": "2024-01-02T03:04:05.678Z",
        }
        return doc | {"etag": etag(doc)}

    def _policy(self, resource: str) -> dict[str, Any]:
        kind, _, ident = resource.partition("/")
        if kind == "projects":
            by_number = {p["number"]: pid for pid, p in self.world.projects.items()}
            ident = by_number.get(ident, ident)
            if ident not in self.world.projects:
                raise LookupError(resource)
            resource = f"projects/{ident}"
        elif resource not in self.world.organizations and resource not in self.world.folders:
            raise LookupError(resource)
        bindings = self.world.policies.get(resource, [])
        doc: dict[str, Any] = {"version": 3 if any("condition" in b for b in bindings) else 1}
        if bindings:
            doc["bindings"] = bindings
        return doc | {"etag": etag(bindings)}

    # --- routing --------------------------------------------------------------------------------
    def route(self, request: Request) -> Reply:
        try:
            return self._resource(request.method, request.path, request.query, request.body)
        except LookupError as exc:
            return self.error(404, f"{exc} not found")

    def _resource(self, method: str, path: str, query: dict[str, str], body: bytes) -> Reply:
        w = self.world
        if m := re.fullmatch(r"/v3/((?:organizations|folders|projects)/[^/:]+):getIamPolicy", path):
            if method != "POST":
                return self.error(405, "method not allowed")
            json.loads(body or b"{}")  # the request must be JSON
            return Reply(200, self._policy(m.group(1)))
        if path == "/v3/organizations:search":
            return self._page(
                [self._org(n) for n in sorted(w.organizations)], query, "organizations", "pageSize"
            )
        if m := re.fullmatch(r"/v3/(organizations/[^/:]+)", path):
            return Reply(200, self._org(m.group(1)))
        if path == "/v3/folders":
            parent = query.get("parent", "")
            children = [self._folder(n) for n, f in sorted(w.folders.items()) if f["parent"] == parent]
            return self._page(children, query, "folders", "pageSize")
        if m := re.fullmatch(r"/v3/projects/([^/:]+)", path):
            if m.group(1) not in w.projects:
                raise LookupError(path)
            return Reply(200, self._project(m.group(1)))
        if path == "/v3/projects:search":
            return self._page([self._project(pid) for pid in w.projects], query, "projects", "pageSize")
        if m := re.fullmatch(r"/v1/projects/([^/]+)/serviceAccounts", path):
            accounts = [
                {k: v for k, v in sa.items() if k != "keys"} for sa in w.service_accounts.get(m.group(1), [])
            ]
            return self._page(accounts, query, "accounts", "pageSize")
        if m := re.fullmatch(r"/v1/projects/([^/]+)/serviceAccounts/([^/]+)/keys", path):
            sa = _find(w.service_accounts.get(m.group(1), []), "email", m.group(2))
            wanted = query.get("keyTypes")
            keys = [k for k in sa.get("keys", []) if not wanted or k["keyType"] == wanted]
            return Reply(200, {"keys": keys} if keys else {})
        if path == "/storage/v1/b":
            items = [
                {k: v for k, v in b.items() if k != "bindings"} for b in w.buckets.get(query["project"], [])
            ]
            return self._page(items, query, "items", "maxResults")
        if m := re.fullmatch(r"/storage/v1/b/([^/]+)/iam", path):
            bucket = _find([b for bs in w.buckets.values() for b in bs], "name", m.group(1))
            return Reply(
                200, {"kind": "storage#policy", "bindings": bucket.get("bindings", []), "etag": "CAE="}
            )
        raise LookupError(path)
