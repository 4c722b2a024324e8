"""A loopback Jira speaking REST API v2 as Jira Cloud or Data Center does, for the `jira` package.

Served: `GET /rest/api/2/serverInfo` (`deploymentType` "Cloud" or "Server"), `GET /rest/api/2/field`
(the package reads it before a search), `POST /rest/api/2/issue` (201 `{"id", "key", "self"}`),
`GET /rest/api/2/issue/{key}`, `POST .../comment` (201), `GET/POST .../transitions` (204), and the
search of each deployment: Cloud's `GET /rest/api/2/search/jql` (`{"issues", "isLast"}`), Data
Center's `GET /rest/api/2/search` (`{"startAt", "maxResults", "total", "issues"}`, an unknown key a
warning when `validateQuery` is false, else a 400). Cloud takes HTTP basic auth (e-mail and API
token), Data Center a bearer personal access token; anything else is a 401. Errors are Jira's
`{"errorMessages": [...], "errors": {...}}`; faults inject 429 + Retry-After or 503.

Issues follow a small workflow: To Do (category new) -> In Progress (indeterminate) -> Done (done),
with "Start Progress", "Done" and "Reopen" transitions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from simulators.localserver import Fault, LocalServer, Reply, Request, basic

API = "/rest/api/2"
CATEGORIES = {"To Do": "new", "In Progress": "indeterminate", "Done": "done"}
TRANSITIONS = {  # from status: [(id, name, to status)]
    "To Do": [("11", "Start Progress", "In Progress"), ("31", "Done", "Done")],
    "In Progress": [("31", "Done", "Done")],
    "Done": [("41", "Reopen", "To Do")],
}
_ISSUE = re.compile(rf"^{API}/issue/([^/]+)(/comment|/transitions)?$")
_KEYS = re.compile(r"\bkey\s+in\s*\(([^)]*)\)", re.IGNORECASE)
_LABEL = re.compile(r'\bproject\s*=\s*"([^"]*)"\s+AND\s+labels\s*=\s*"([^"]*)"', re.IGNORECASE)


@dataclass
class JiraIssue:
    id: str
    key: str
    fields: dict[str, Any]
    status: str = "To Do"
    comments: list[str] = field(default_factory=list)


class JiraServer(LocalServer):
    """`with JiraServer("cloud", token="t", email="e") as jira:` serves on `jira.url`."""

    def __init__(self, deployment: str, *, token: str, email: str = "", project: str = "SEC") -> None:
        self.deployment = deployment
        self.token = token
        self.email = email
        self.projects = {project: "10000"}
        self.issue_types = {"Task", "Bug"}
        self.priorities = {"Highest", "High", "Medium", "Low"}
        self.issues: dict[str, JiraIssue] = {}
        self.faults: list[Fault] = []
        self.requests: list[Request] = []
        super().__init__()

    # --- what a test changes ------------------------------------------------------------------
    def set_status(self, key: str, status: str) -> None:
        self.issues[key].status = status

    # --- Jira's plumbing ------------------------------------------------------------------------
    def credential(self) -> str:
        return basic(self.email, self.token) if self.deployment == "cloud" else f"Bearer {self.token}"

    def unauthorized(self) -> Reply:
        return Reply(
            401, "Client must be authenticated to access this resource.", {"WWW-Authenticate": "Basic"}
        )

    def error(self, status: int, message: str, errors: dict[str, str] | None = None) -> Reply:
        return Reply(status, {"errorMessages": [message] if message else [], "errors": errors or {}})

    def content_type(self, reply: Reply) -> str:
        return "text/plain" if isinstance(reply.payload, str) else "application/json;charset=UTF-8"

    def faults_for(self, request: Request) -> list[Fault]:
        return self.faults

    def record(self, request: Request) -> None:
        self.requests.append(request)

    # --- the API --------------------------------------------------------------------------------
    def route(self, request: Request) -> Reply:
        if request.key == f"GET {API}/serverInfo":
            return Reply(200, self.server_info())
        if request.key == f"GET {API}/field":
            return Reply(200, [self._field("status", "Status"), self._field("summary", "Summary")])
        if request.key == f"POST {API}/issue":
            return self.create(json.loads(request.body))
        search = {"cloud": f"GET {API}/search/jql", "datacenter": f"GET {API}/search"}[self.deployment]
        if request.key == search:
            return self.search(request.query)
        matched = _ISSUE.match(request.path)
        if matched is None:
            return self.error(404, "null for uri")
        issue = self.issues.get(matched[1])
        if issue is None:
            return self.error(404, "Issue does not exist or you do not have permission to see it.")
        return self.on_issue(request, issue, matched[2] or "")

    def server_info(self) -> dict[str, Any]:
        if self.deployment == "cloud":
            return {"baseUrl": self.url, "version": "1001.0.0-SNAPSHOT", "versionNumbers": [1001, 0, 0],
                    "deploymentType": "Cloud", "buildNumber": 100280, "serverTitle": "Jira"}  # fmt: skip
        return {"baseUrl": self.url, "version": "9.12.15", "versionNumbers": [9, 12, 15],
                "deploymentType": "Server", "buildNumber": 9120015, "serverTitle": "Jira"}  # fmt: skip

    @staticmethod
    def _field(fid: str, name: str) -> dict[str, Any]:
        return {"id": fid, "key": fid, "name": name, "custom": False, "navigable": True,
                "searchable": True, "clauseNames": [fid]}  # fmt: skip

    def create(self, body: dict[str, Any]) -> Reply:
        fields = body.get("fields", {})
        errors = {}
        if fields.get("project", {}).get("key") not in self.projects:
            errors["project"] = "valid project is required"
        if fields.get("issuetype", {}).get("name") not in self.issue_types:
            errors["issuetype"] = "valid issue type is required"
        summary = fields.get("summary") or ""
        if not summary or "\n" in summary or len(summary) > 255:
            errors["summary"] = "You must specify a summary of the issue."
        if "priority" in fields and fields["priority"].get("name") not in self.priorities:
            errors["priority"] = "Specify the Priority (name) in the string format"
        if any(not label or " " in label for label in fields.get("labels", [])):
            errors["labels"] = "The label contains spaces which is invalid."
        if errors:
            return self.error(400, "", errors)
        number = len(self.issues) + 1
        key = f"{fields['project']['key']}-{number}"
        self.issues[key] = JiraIssue(str(10000 + number), key, fields)
        return Reply(
            201, {"id": str(10000 + number), "key": key, "self": f"{self.url}{API}/issue/{10000 + number}"}
        )

    def issue_json(self, issue: JiraIssue) -> dict[str, Any]:
        category = CATEGORIES[issue.status]
        status = {"name": issue.status, "id": str(list(CATEGORIES).index(issue.status) + 1),
                  "statusCategory": {"key": category, "name": issue.status, "id": 2}}  # fmt: skip
        return {"id": issue.id, "key": issue.key, "self": f"{self.url}{API}/issue/{issue.id}",
                "fields": {**issue.fields, "status": status}}  # fmt: skip

    def on_issue(self, request: Request, issue: JiraIssue, part: str) -> Reply:
        if request.method == "GET" and not part:
            return Reply(200, self.issue_json(issue))
        if request.method == "POST" and part == "/comment":
            issue.comments.append(json.loads(request.body)["body"])
            return Reply(201, {"id": str(len(issue.comments)), "body": issue.comments[-1]})
        available = TRANSITIONS[issue.status]
        if request.method == "GET" and part == "/transitions":
            return Reply(200, {"expand": "transitions", "transitions": [
                {"id": tid, "name": name, "to": {"name": to, "statusCategory": {"key": CATEGORIES[to]}}}
                for tid, name, to in available
            ]})  # fmt: skip
        if request.method == "POST" and part == "/transitions":
            body = json.loads(request.body)
            wanted = str(body["transition"]["id"])  # Jira takes the id as a string or a number
            chosen = [to for tid, _, to in available if tid == wanted]
            if not chosen:
                return self.error(400, f"Transition id '{wanted}' is not valid for this issue.")
            issue.status = chosen[0]
            issue.comments += [c["add"]["body"] for c in body.get("update", {}).get("comment", [])]
            return Reply(204, "")
        return self.error(405, "")

    def search(self, query: dict[str, str]) -> Reply:
        """Two kinds of JQL: `key in (K-1, K-2)` and `project = "P" AND labels = "L"`."""
        jql = query.get("jql", "")
        labelled = _LABEL.search(jql)
        if labelled:
            project, label = labelled.groups()
            keys = [k for k, i in self.issues.items() if i.fields["project"]["key"] == project
                    and label in i.fields.get("labels", [])]  # fmt: skip
        else:
            matched = _KEYS.search(jql)
            keys = [k.strip().strip("\"'") for k in matched[1].split(",")] if matched else []
        unknown = [k for k in keys if k not in self.issues]
        lenient = self.deployment == "datacenter" and query.get("validateQuery") == "False"
        if unknown and not lenient:
            return self.error(400, f"An issue with key '{unknown[0]}' does not exist for field 'key'.")
        issues = [self.issue_json(self.issues[k]) for k in keys if k in self.issues][
            : int(query.get("maxResults", 50))
        ]
        if self.deployment == "cloud":
            return Reply(200, {"issues": issues, "isLast": True})
        warnings = [f"An issue with key '{k}' does not exist for field 'key'." for k in unknown]
        return Reply(200, {"startAt": 0, "maxResults": int(query.get("maxResults", 50)), "total": len(issues),
                           "issues": issues, "warningMessages": warnings})  # fmt: skip
