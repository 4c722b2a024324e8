"""BambooHR over its REST API: one custom report with exactly the fields the checks need.

`POST /api/gateway.php/{subdomain}/v1/reports/custom?format=JSON&onlyCurrent=false` returns
`{"title", "fields": [{"id", "type", "name"}], "employees": [{field id: string}]}` for every
employee, terminated ones included. The API key is the basic-auth user name (password `x`).
BambooHR throttles with 503 (or 429) and `Retry-After`, retried here with a bounded wait.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from agent.errors import InputDataError
from agent.logs import get_logger
from collectors.errors import by_status, translate
from collectors.hr.settings import HrSettings
from collectors.hr.validate import RawRow

log = get_logger()

DEFAULT_BASE_URL = "https://api.bamboohr.com"
CALL = "BambooHR custom report"
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Our field → BambooHR field id; the people-control facts are custom fields, read when mapped.
DEFAULT_FIELDS = {
    "employee_id": "id",
    "email": "workEmail",
    "name": "displayName",
    "status": "status",
    "hire_date": "hireDate",
    "termination_date": "terminationDate",
    "manager_email": "supervisorEmail",
    "department": "department",
}


def report_fields(columns: Mapping[str, str]) -> dict[str, str]:
    """The BambooHR field id to request for each of our fields."""
    return {**DEFAULT_FIELDS, **columns}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    return float(value) if value.isdigit() else None


class BambooHR:
    """A read-only client for one BambooHR company."""

    def __init__(self, settings: HrSettings, api_key: str) -> None:
        self.settings = settings
        base = (settings.base_url or DEFAULT_BASE_URL).rstrip("/")
        self.url = f"{base}/api/gateway.php/{settings.subdomain}/v1/reports/custom"
        self._auth = (api_key, "x")

    def _post(self, body: dict[str, Any]) -> httpx.Response:
        attempts = self.settings.max_attempts
        with httpx.Client(timeout=self.settings.timeout, auth=self._auth) as client:
            for attempt in range(1, attempts + 1):
                try:
                    response = client.post(
                        self.url,
                        params={"format": "JSON", "onlyCurrent": "false"},
                        json=body,
                        headers={"Accept": "application/json"},
                    )
                except httpx.HTTPError as exc:
                    raise translate(exc, "hr", CALL) from None
                if response.status_code not in RETRY_STATUSES or attempt == attempts:
                    return response
                wait = _retry_after(response)
                wait = min(wait if wait is not None else 2.0 ** (attempt - 1), self.settings.max_retry_wait)
                log.info("bamboohr.throttled", status=response.status_code, attempt=attempt, wait_s=wait)
                time.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns")

    def report(self, fields: list[str]) -> dict[str, Any]:
        response = self._post({"title": "annexa people controls", "fields": fields})
        status = response.status_code
        if status != 200:
            # BambooHR has no error codes: the reason phrase stands in, its own message in a header.
            found = by_status(
                status, response.reason_phrase, response.headers.get("X-BambooHR-Error-Message", "")
            )
            tried = self.settings.max_attempts if status in RETRY_STATUSES else None
            raise translate(found, "hr", CALL, tried)
        try:
            doc = response.json()
        except ValueError:
            raise InputDataError(f"{CALL}: response is not JSON") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("employees"), list):
            raise InputDataError(f"{CALL}: response has no 'employees' list")
        return doc

    def rows(self, columns: Mapping[str, str]) -> Iterator[RawRow]:
        """Every employee under our field names; a requested field the report lacks is an error."""
        wanted = report_fields(columns)
        doc = self.report(sorted(set(wanted.values())))
        for n, employee in enumerate(doc["employees"], start=1):
            if not isinstance(employee, dict):
                raise InputDataError(f"{CALL}: employee {n} is not a JSON object")
            missing = [f for f in wanted.values() if f not in employee]
            where = f"employee {n} (id {employee.get('id', '?')})"
            if missing:
                raise InputDataError(f"{CALL}: {where} lacks field {missing[0]!r}")
            yield RawRow(where, {ours: employee[theirs] for ours, theirs in wanted.items()})
