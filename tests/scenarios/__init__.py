"""Evidence scenarios with the verdicts each check must reach on them.

Every module of this package that defines `SCENARIOS` contributes to the list, so adding a
module is enough: tests/test_check_scenarios.py runs them all against the checks the `annexa.checks`
entry points register, and demands a pass and a fail per check.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agent.plugin.evidence import Evidence
from agent.plugin.loader import load_plugins
from agent.plugin.model import Record, Result, Status

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
PASS, FAIL, NA, ERROR = Status.PASS, Status.FAIL, Status.NOT_APPLICABLE, Status.ERROR
# Every check the `annexa.checks` entry points register, built-in or third-party; no collector is imported.
CHECKS = load_plugins(systems=()).checks


@dataclass(frozen=True)
class Scenario:
    check_id: str
    name: str
    records: dict[str, list[Record]]
    expected: dict[str, Status]
    params: dict[str, Any] = field(default_factory=dict)
    now: datetime = NOW
    scope: str = "aws:123456789012"

    def __str__(self) -> str:
        return f"{self.check_id}:{self.name}"


def evaluate(s: Scenario) -> list[Result]:
    """Run the scenario's check as the runner would: defaults overlaid with the scenario's params."""
    spec = CHECKS[s.check_id]
    ev = Evidence.of(s.scope, s.records, now=s.now, params={**spec.params, **s.params})
    return list(spec.func(ev))


def run_scenario(s: Scenario) -> dict[str, Status]:
    """The status of each resource; a check must not judge one resource twice."""
    results = evaluate(s)
    statuses = {r.resource_id: r.status for r in results}
    assert len(statuses) == len(results), f"{s}: more than one result for a resource"
    return statuses


def _collect() -> list[Scenario]:
    found: list[Scenario] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            found += importlib.import_module(f"{__name__}.{info.name}").SCENARIOS
    return found


SCENARIOS: list[Scenario] = _collect()
