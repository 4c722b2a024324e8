"""A loopback BambooHR API serving the custom-report endpoint as BambooHR does.

`POST /api/gateway.php/{company}/v1/reports/custom?format=JSON&onlyCurrent=false` with a JSON
body `{"title", "fields": [...]}` and HTTP basic auth (API key as user name, any password)
returns `{"title", "fields": [{"id", "type", "name"}], "employees": [...]}` holding only the
requested fields, values as strings, `0000-00-00` for empty dates. Faults inject throttling
(503 + Retry-After, as BambooHR throttles) or a raw malformed body.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.localserver import LocalServer

FIELD_TYPES = {
    "hireDate": "date",
    "terminationDate": "date",
    "workEmail": "email",
    "supervisorEmail": "email",
}


@dataclass
class BambooFault:
    status: int = 503
    retry_after: str | None = "1"
    times: int | None = 1
    body: str | None = None


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

    def __init__(self, company: str, api_key: str, employees: list[dict[str, Any]]) -> None:
        self.company = company
        self.api_key = api_key
        self.employees = employees
        self.faults: list[BambooFault] = []
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._listen(ThreadingHTTPServer(("127.0.0.1", 0), self._handler()))

    def _next_fault(self) -> BambooFault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times is None or fault.times > 0:
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    def report(self, fields: list[str]) -> dict[str, Any]:
        return {
            "title": "Report",
            "fields": [{"id": f, "type": FIELD_TYPES.get(f, "text"), "name": f} for f in fields],
            "employees": [{f: e[f] for f in fields if f in e} for e in self.employees],
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
                raw = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if status == 200 else "text/html")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path, _, query = self.path.partition("?")
                with server._lock:
                    server.requests.append({"path": path, "query": query, "body": body.decode()})
                expected = base64.b64encode(f"{server.api_key}:x".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    self._send(401, "", {"X-BambooHR-Error-Message": "Invalid API key"})
                    return
                if path != f"/api/gateway.php/{server.company}/v1/reports/custom":
                    self._send(404, "")
                    return
                fault = server._next_fault()
                if fault is not None:
                    headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                    self._send(fault.status, fault.body if fault.body is not None else "", headers)
                    return
                fields = json.loads(body)["fields"]
                self._send(200, json.dumps(server.report(fields)))

        return Handler
