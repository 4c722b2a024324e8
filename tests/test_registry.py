"""Sweep of everything registered through the entry points: ids, controls, sources, error handling.

Scenarios are swept by tests/test_check_scenarios.py.
"""

from __future__ import annotations

import pytest

from agent.audit.catalog import annex_a
from agent.config.settings import Settings, build_settings
from agent.errors import PluginError
from agent.plugin.declare import check
from agent.plugin.loader import load_plugins
from agent.plugin.model import Status
from agent.plugin.registry import Registry
from agent.run.evaluate import Evaluator
from agent.store import Store
from agent.store.observations import EvidenceBuffer, write_observation
from agent.store.results import results_of
from agent.store.runs import start_run
from agent.store.types import utcnow

registry = load_plugins()
CHECKS = sorted(registry.checks)


def test_plugins_register_collectors_checks_and_targets():
    assert load_plugins(Registry()).checks.keys() == registry.checks.keys()  # any registry gets filled
    assert len(registry.collectors) >= 5 and len(registry.checks) >= 8
    for spec in registry.collectors.values():
        assert spec.scope_kind in registry.scope_kinds, spec.source
        assert spec.permissions, f"{spec.source} declares no permissions"
        assert spec.description, f"{spec.source} has no docstring"


def test_a_second_plugin_cannot_take_an_existing_id():
    taken = CHECKS[0]

    with pytest.raises(PluginError, match="registered twice"):

        @check(
            taken,
            title="t",
            controls={"A.5.1": "x"},
            severity="minor",
            needs=["a.b.c"],
            rationale="r",
            remediation="r",
        )
        def impostor(ev):
            yield from ()

    assert registry.checks[taken].func.__name__ != "impostor"


@pytest.mark.parametrize("check_id", CHECKS)
def test_check_metadata_is_complete_and_mapped_to_real_controls(check_id):
    spec = registry.checks[check_id]
    catalog = annex_a()
    assert spec.title and spec.rationale and spec.remediation
    assert spec.controls, "a check must evidence at least one control"
    for control, why in spec.controls.items():
        assert control in catalog, f"{control} is not an Annex A 2022 control"
        assert why.strip(), f"{control}: every mapping needs its one-line rationale"
    for source in spec.needs:
        assert source in registry.collectors, f"{source} has no collector"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return Store(f"sqlite:///{tmp_path_factory.mktemp('sweep') / 'sweep.db'}")


def _settings() -> Settings:
    return build_settings({"aws": {"enabled": True}, "gcp": {"enabled": True}})


@pytest.mark.parametrize("check_id", CHECKS)
def test_every_check_reports_error_when_evidence_failed_or_is_missing(store, check_id):
    spec = registry.checks[check_id]
    run = start_run(store, "test", [])
    scope = f"{spec.primary_source.split('.')[0]}:{check_id}"
    for n, source in enumerate(spec.needs):
        if n == 0:
            write_observation(store, run, source, scope, utcnow(), error="access denied: x:Y")
        else:
            write_observation(store, run, source, scope, utcnow(), EvidenceBuffer(source))
    [outcome] = Evaluator(store, _settings(), registry, run, utcnow()).evaluate([spec])
    assert outcome.status == Status.ERROR and outcome.scope == scope
    results = results_of(store, outcome.result_set)
    assert all(r.status == Status.ERROR for r in results)
    assert "access denied: x:Y" in results[0].reason


def test_a_resolver_receives_its_own_section_and_those_it_uses():
    from agent.config.sections import SystemSettings
    from agent.plugin.registry import ScopeKindSpec

    seen: list[tuple[object, ...]] = []
    reg = Registry(systems={"devices": SystemSettings, "directory": SystemSettings})
    kind = ScopeKindSpec(
        "device_tenant", "devices", lambda *sections: seen.append(sections) or [], uses=("directory",)
    )
    settings = build_settings({"devices": {"enabled": True}, "directory": {"enabled": False}}, reg.systems)
    assert list(reg.targets(kind, settings)) == []
    assert seen == [(settings.system("devices"), settings.system("directory"))]
