"""A loopback BambooHR API serving the custom-report endpoint as BambooHR does.

`POST /api/gateway.php/{company}/v1/reports/custom?format=JSON&onlyCurrent=false` with a JSON
body `{"title", "fields": [...]}` and HTTP basic auth (API key as user name, any password)
returns `{"title", "fields": [{"id", "type", "name"}], "employees": [...]}` holding only the
requested fields, values as strings, `0000-00-00` for empty dates. Faults inject throttling
(503 + Retry-After, as BambooHR throttles) or a raw malformed body.
"""

from __future__ import annotations

import json
from typing import Any

from simulators.localserver import Fault, LocalServer, Reply, Request, basic

FIELD_TYPES = {
    "hireDate": "date",
    "terminationDate": "date",
    "workEmail": "email",
    "supervisorEmail": "email",
}


class BambooFault(Fault):
    """By default BambooHR's throttling (503 with `Retry-After: 1`, once); an empty body unless `body`."""

    def __init__(
        self,
        status: int = 503,
        retry_after: str | None = "1",
        times: int | None = 1,
        body: str | None = None,
    ) -> None:
        super().__init__(status, times=times, body=body, retry_after=retry_after)


def bamboo_employee(
    eid: str,
    name: str,
    email: str,
    *,
    status: str = "Active",
    hired: str = "2023-01-09",
    terminated: str = "0000-00-00",
    manager: str = "",
    department: str = "Engineering",
    **custom: str,
) -> dict[str, Any]:
    """An employee as BambooHR stores it, with personal fields a collector must never ask for."""
    return {
        "id": eid,
        "employeeNumber": f"EMP{eid}",
        "displayName": name,
        "firstName": name.split(maxsplit=1)[0],
        "lastName": name.rsplit(maxsplit=1)[-1],
        "workEmail": email,
        "status": status,
        "hireDate": hired,
        "terminationDate": terminated,
        "supervisorEmail": manager or None,
        "department": department,
        "dateOfBirth": "1990-01-01",
        "ssn": "123-45-6789",
        **custom,
    }


class BambooServer(LocalServer):
    """`with BambooServer("acme", "key", employees) as b:` serves on `b.url` (use it as `[hr] base_url`)."""

    methods = ("POST",)

    def __init__(self, company: str, api_key: str, employees: list[dict[str, Any]]) -> None:
        self.company = company
        self.api_key = api_key
        self.employees = employees
        self.faults: list[BambooFault] = []
        self.requests: list[dict[str, Any]] = []
        super().__init__()

    @property
    def report_path(self) -> str:
        return f"/api/gateway.php/{self.company}/v1/reports/custom"

    def report(self, fields: list[str]) -> dict[str, Any]:
        return {
            "title": "Report",
            "fields": [{"id": f, "type": FIELD_TYPES.get(f, "text"), "name": f} for f in fields],
            "employees": [{f: e[f] for f in fields if f in e} for e in self.employees],
        }

    def route(self, request: Request) -> Reply:
        if request.path != self.report_path:
            return self.error(404, "")
        return Reply(200, self.report(json.loads(request.body)["fields"]))

    # -- BambooHR's own plumbing -------------------------------------------------------------
    def record(self, request: Request) -> None:
        self.requests.append(
            {"path": request.path, "query": request.query_string, "body": request.body.decode()}
        )

    def credential(self) -> str:
        return basic(self.api_key, "x")  # the API key as user name, any password

    def unauthorized(self) -> Reply:
        return Reply(401, "", {"X-BambooHR-Error-Message": "Invalid API key"})

    def faults_for(self, request: Request) -> list[BambooFault]:
        return self.faults if request.path == self.report_path else []

    def error(self, status: int, message: str) -> Reply:
        return Reply(status, "")  # BambooHR says what went wrong in a header, if at all

    def content_type(self, reply: Reply) -> str:
        return "application/json" if reply.status == 200 else "text/html"
