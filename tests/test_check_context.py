"""A check's context sources inform its reasons and never decide: read when collected, named in
`ev.gaps` when failed or missing, left out when their system is not enabled."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from agent.config.sections import SystemSettings
from agent.config.settings import build_settings
from agent.plugin.declare import DECLARED, check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result, Severity, Status
from agent.plugin.registry import CheckSpec, CollectorSpec, Registry
from agent.run.evaluate import Evaluator
from agent.store import Store
from agent.store.observations import EvidenceBuffer, write_observation
from agent.store.results import results_of
from agent.store.runs import start_run
from agent.store.schema import ResultRow
from agent.store.types import utcnow

MAIN, EXTRA = "main.things.items", "side.things.items"


def told(ev: Evidence) -> Iterator[Result]:
    """One verdict per main record; the reason tells what the context showed or could not."""
    extra = sorted(r.resource_id for r in ev.records(EXTRA))
    for rec in ev.records(MAIN):
        reason = f"context {extra}; gaps {list(ev.gaps)}"
        yield Result.of(rec, passed=bool(rec.data["good"]), reason=reason)


def registry() -> Registry:
    reg = Registry(systems={"main": SystemSettings, "side": SystemSettings})
    for source in (MAIN, EXTRA):
        reg.collectors[source] = CollectorSpec(source, "box", lambda _t: [], timedelta(hours=1), (), "")
    reg.checks["main.things.good"] = CheckSpec(
        "main.things.good", "Things are good", {"A.8.9": "why"}, Severity.MINOR, (MAIN,), "r", "m", told,
        context=(EXTRA,),
    )  # fmt: skip
    return reg


def observe(
    store: Store, run, source: str, scope: str, records: list[Record], error: str | None = None
) -> None:
    buffer = EvidenceBuffer(source)
    for rec in records:
        buffer.add(rec)
    when = utcnow()
    if error:
        write_observation(store, run, source, scope, when, error=error)
    else:
        write_observation(store, run, source, scope, when, buffer)


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'c.db'}")
    yield s
    s.close()


def judged(
    store: Store, side_enabled: bool, side: list[Record] | None, error: str | None = None
) -> ResultRow:
    settings = build_settings(
        {"main": {"enabled": True}, "side": {"enabled": side_enabled}},
        {"main": SystemSettings, "side": SystemSettings},
    )
    run = start_run(store, "test", [])
    observe(store, run, MAIN, "main:1", [Record("m1", {"good": True})])
    if side is not None or error:
        observe(store, run, EXTRA, "side:9", side or [], error)
    reg = registry()
    [outcome] = Evaluator(store, settings, reg, run, utcnow()).evaluate([reg.checks["main.things.good"]])
    [result] = results_of(store, outcome.result_set)
    return result


def test_collected_context_is_read(store: Store) -> None:
    result = judged(store, True, [Record("s1", {"x": 1})])
    assert (result.status, result.reason) == (Status.PASS, "context ['s1']; gaps []")


def test_failed_context_is_named_and_does_not_decide(store: Store) -> None:
    result = judged(store, True, None, error="access denied: side:List")
    assert result.status == Status.PASS
    assert result.reason == (
        "context []; gaps ['side.things.items at side:9 could not be collected: access denied: side:List']"
    )


def test_missing_context_of_an_enabled_system_is_a_gap(store: Store) -> None:
    result = judged(store, True, None)
    assert result.reason == "context []; gaps ['no evidence of side.things.items']"


def test_context_of_a_system_not_enabled_is_neither_read_nor_missing(store: Store) -> None:
    result = judged(store, False, [Record("s1", {"x": 1})])
    assert result.reason == "context []; gaps []"


def test_the_decorator_keeps_context_apart_from_needs() -> None:
    @check(
        "ctx.things.declared",
        title="t",
        controls={"A.8.9": "why"},
        severity="minor",
        needs=[MAIN],
        context=[MAIN, EXTRA],
        rationale="r",
        remediation="m",
    )
    def declared(ev: Evidence) -> Iterator[Result]:
        yield from ()

    try:
        spec = DECLARED.checks["ctx.things.declared"]
        assert (spec.needs, spec.context) == ((MAIN,), (EXTRA,))
    finally:
        del DECLARED.checks["ctx.things.declared"]
