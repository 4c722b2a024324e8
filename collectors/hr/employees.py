"""`hr.employees`: one record per employee, whatever HR system it came from."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.hr.targets import HrSystem
from collectors.hr.validate import employee_records


@collector(
    "hr.employees",
    scope="hr_system",
    freshness=timedelta(hours=24),
    permissions=[
        "bamboohr: API key of a user allowed to run custom reports on the mapped fields",
        "file: read access to the export file",
    ],
)
def employees(system: HrSystem) -> Iterator[Record]:
    """Status, hire/termination dates, manager, department, work email and mapped people-control facts."""
    yield from employee_records(
        system.rows(),
        system.label,
        status_values=system.settings.status_values,
        aliases=system.settings.aliases,
    )
