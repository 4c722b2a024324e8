"""Every registered check against the evidence scenarios of tests/scenarios/, whatever its id.

Parametrised over the registry that the `annexa.checks` entry points fill, not over id prefixes:
a check a plugin adds is run as soon as it has scenarios, and fails here until it does.
"""

from __future__ import annotations

import pytest

from agent.plugin.model import Status
from tests.scenarios import CHECKS, SCENARIOS, Scenario, run_scenario

# Registered checks that no evidence scenario can exercise, each with the reason. Every other
# check needs scenarios reaching both a pass and a fail; today none is exempt.
WITHOUT_SCENARIOS: dict[str, str] = {}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_scenario(scenario: Scenario) -> None:
    spec = CHECKS.get(scenario.check_id)
    assert spec is not None, f"{scenario} names a check no plugin registers"
    assert set(spec.needs) <= set(scenario.records), f"{scenario} leaves out a source the check needs"
    assert run_scenario(scenario) == scenario.expected


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_every_check_is_seen_passing_and_failing(check_id: str) -> None:
    seen = {status for s in SCENARIOS if s.check_id == check_id for status in s.expected.values()}
    if check_id in WITHOUT_SCENARIOS:
        assert not seen, f"{check_id} has scenarios: drop it from WITHOUT_SCENARIOS"
        pytest.skip(WITHOUT_SCENARIOS[check_id])
    assert {Status.PASS, Status.FAIL} <= seen, (
        f"give {check_id} scenarios that pass and fail in tests/scenarios/"
    )
