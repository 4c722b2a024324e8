"""Recording verdicts: many checks' results, check runs and NC changes in a few statements, and in
batches that change nothing of what is stored but how many transactions it takes."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

import pytest
from sqlalchemy import event, select

from agent.run import evaluate
from agent.run.runner import Runner
from agent.store import Store
from agent.store.schema import CheckRun, NcTransition, NcVersion, Nonconformity
from agent.store.verify import verify_store
from tests.fakeplugin import build_registry, fake_system_settings
from tests.postgres import BACKENDS, backend_url

CHECKS = 40


def registry_of_many(world):
    """The fake system with CHECKS copies of its check: each fails in fake:b and opens an NC there."""
    registry = build_registry(world)
    check = registry.checks.pop("fake.things.good")
    for n in range(CHECKS):
        copy = dataclasses.replace(check, id=f"fake.things.good_{n:02d}")
        registry.checks[copy.id] = copy
    return registry


def statements_by_table(store: Store) -> Counter[str]:
    """Calls to the database driver per (verb, table) from now on; an executemany is one call."""
    calls: Counter[str] = Counter()

    def count(_conn, _cursor, statement, _params, _context, _executemany):
        found = re.match(r"\s*(INSERT INTO|UPDATE|DELETE FROM|SELECT\b.*?\bFROM)\s+\"?(\w+)", statement, re.S)
        if found:
            calls[f"{found[1].split()[0]} {found[2]}"] += 1

    event.listen(store.engine, "before_cursor_execute", count)
    return calls


def stored(store: Store) -> dict[str, object]:
    """What judging left in the store, without the run-specific times."""
    with store.read() as s:
        ncs = s.execute(select(Nonconformity).order_by(Nonconformity.id)).scalars().all()
        runs = s.execute(select(CheckRun).order_by(CheckRun.id)).scalars().all()
        steps = s.execute(select(NcTransition).order_by(NcTransition.id)).scalars().all()
        versions = s.execute(select(NcVersion).order_by(NcVersion.id)).scalars().all()
        return {
            "ncs": [(nc.id, nc.check_id, nc.scope, nc.state, nc.version, nc.failing_resources) for nc in ncs],
            "check_runs": [(cr.check_id, cr.scope, cr.outcome, cr.result_set) for cr in runs],
            "steps": [(t.id, t.nc_id, t.from_state, t.to_state) for t in steps],
            "versions": [(v.nc_id, v.version, v.document["state"]) for v in versions],
        }


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path):
    return backend_url(request, tmp_path)


def test_many_checks_are_recorded_in_a_few_statements(store_url, fake_world):
    settings = fake_system_settings(store={"url": store_url})
    store = Store(settings.store.url)
    calls = statements_by_table(store)
    summary = Runner(store, settings, registry_of_many(fake_world)).collect([])
    assert len(summary.outcomes) == 2 * CHECKS
    # One call each for every check's runs, result sets, results, NCs, steps and NC versions: not
    # one per check or scope.
    assert calls["INSERT check_run"] == 1
    assert calls["INSERT result_set"] == 1
    assert calls["INSERT result"] == 1  # fake:a's and fake:b's sets, the same for every check
    assert calls["INSERT nc_version"] == 1
    assert calls["INSERT nonconformity"] == 1
    assert calls["INSERT nc_transition"] == 1 and calls["UPDATE nc_transition"] == 1  # then hashed
    assert calls["SELECT nonconformity"] == 2  # locked, then the new ones' ids
    assert calls["SELECT nc_transition"] == 2  # the new steps' ids, for their hashes; the seal's read
    # NCs are numbered in the order of the checks, as if each had been recorded on its own.
    refs = {o.check.id: o.nc for o in summary.outcomes if o.scope == "fake:b"}
    assert [refs[c] for c in sorted(refs)] == [f"NC-{n:04d}" for n in range(1, CHECKS + 1)]
    assert verify_store(store).ok
    store.close()


@pytest.mark.parametrize("batch", [1, 7])
def test_recording_in_smaller_batches_stores_the_same(tmp_path, fake_world, monkeypatch, batch):
    """Three runs (NCs opened, kept, closed) recorded in one transaction and in many agree row for row."""
    results = []
    for name, size in (("one", evaluate.RECORD_BATCH), ("many", batch)):
        monkeypatch.setattr(evaluate, "RECORD_BATCH", size)
        fake_world.items["fake:b"]["y"] = False
        settings = fake_system_settings(store={"url": f"sqlite:///{tmp_path / name}.db"})
        store = Store(settings.store.url)
        registry = registry_of_many(fake_world)
        calls = statements_by_table(store)
        Runner(store, settings, registry).collect([])
        Runner(store, settings, registry).collect([])
        fake_world.items["fake:b"]["y"] = True
        Runner(store, settings, registry).collect([])
        results.append(stored(store))
        assert verify_store(store).ok
        if size == 1:  # a batch is full after every check: a transaction per check and run
            assert calls["INSERT check_run"] == 3 * CHECKS
        store.close()
    one, many = results
    assert one == many
    assert {state for _, _, _, state, _, _ in one["ncs"]} == {"closed"}
    assert [v for _, v, _ in one["versions"]].count(3) == CHECKS  # opened, still failing, closed
