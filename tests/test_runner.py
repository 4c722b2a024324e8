"""The runner, store and NC bookkeeping with plugin-shaped test collectors (no cloud involved)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from agent.errors import CollectorError
from agent.plugin.model import RunStatus, Status
from agent.plugin.registry import CheckSpec, ScopeKindSpec
from agent.run.evaluate import Evaluator, _ScopeIndex, related
from agent.run.runner import Runner
from agent.store.hashing import GENESIS
from agent.store.results import results_of
from agent.store.runs import start_run
from agent.store.schema import Blob, NcTransition, Nonconformity, Observation, Run, TreeEntry
from agent.store.types import utcnow
from tests.postgres import BACKENDS, backend_url


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path):
    return backend_url(request, tmp_path)


def outcomes(store, summary):
    """Each outcome's status and its results as stored (the summary keeps counts only)."""
    return {
        (o.check.id, o.scope): (o.status, {r.resource_id: r.status for r in results_of(store, o.result_set)})
        for o in summary.outcomes
    }


def first_reason(store, outcome):
    return results_of(store, outcome.result_set)[0].reason


def nc_of(store, scope):
    with store.read() as s:
        return s.execute(select(Nonconformity).where(Nonconformity.scope == scope)).scalar_one_or_none()


def test_a_clean_run_stores_evidence_judges_it_and_opens_a_draft(fake_store, fake_settings, fake_registry):
    summary = Runner(fake_store, fake_settings, fake_registry).collect([])
    assert summary.run.status == RunStatus.COMPLETE
    assert summary.run.prev_root_hash == GENESIS and len(summary.run.root_hash) == 64
    got = outcomes(fake_store, summary)
    assert got[("fake.things.good", "fake:a")] == (Status.PASS, {"x": Status.PASS, "y": Status.PASS})
    assert got[("fake.things.good", "fake:b")] == (Status.FAIL, {"x": Status.PASS, "y": Status.FAIL})
    nc = nc_of(fake_store, "fake:b")
    assert nc.state == "draft" and nc.failing_resources == ["y"] and len(nc.evidence_hashes) == 1
    assert nc_of(fake_store, "fake:a") is None


def test_unchanged_evidence_is_stored_once_and_runs_chain(fake_store, fake_settings, fake_registry):
    first = Runner(fake_store, fake_settings, fake_registry).collect([])
    with fake_store.read() as s:
        blobs, entries = (
            s.scalar(select(func.count()).select_from(Blob)),
            s.scalar(select(func.count()).select_from(TreeEntry)),
        )
    second = Runner(fake_store, fake_settings, fake_registry).collect([])
    with fake_store.read() as s:
        assert s.scalar(select(func.count()).select_from(Blob)) == blobs
        assert s.scalar(select(func.count()).select_from(TreeEntry)) == entries
        assert s.scalar(select(func.count()).select_from(Observation)) == 4
    assert second.run.prev_root_hash == first.run.root_hash
    nc = nc_of(fake_store, "fake:b")
    assert nc.first_seen < nc.last_seen and nc.last_run_id == second.run.id


def test_a_failing_collector_gives_error_and_keeps_the_nc_open(
    fake_store, fake_settings, fake_registry, fake_world
):
    Runner(fake_store, fake_settings, fake_registry).collect([])
    fake_world.broken.add("fake:b")
    summary = Runner(fake_store, fake_settings, fake_registry).collect([])
    assert summary.run.status == RunStatus.PARTIAL
    status, results = outcomes(fake_store, summary)[("fake.things.good", "fake:b")]
    assert status == Status.ERROR and results == {"x": Status.ERROR, "y": Status.ERROR}
    reason = first_reason(fake_store, next(o for o in summary.outcomes if o.scope == "fake:b"))
    assert "access denied: fake:ListItems in fake:b" in reason
    assert outcomes(fake_store, summary)[("fake.things.good", "fake:a")][0] == Status.PASS
    nc = nc_of(fake_store, "fake:b")
    assert nc.state == "draft" and nc.failing_resources == ["y"]
    with fake_store.read() as s:
        failed = s.execute(select(Observation).where(Observation.status == "error")).scalar_one()
        assert failed.tree_hash is None and failed.record_count == 0


def test_every_collector_failing_marks_the_run_failed(fake_store, fake_settings, fake_registry, fake_world):
    fake_world.broken.update({"fake:a", "fake:b"})
    summary = Runner(fake_store, fake_settings, fake_registry).collect([])
    assert summary.run.status == RunStatus.FAILED
    assert {o.status for o in summary.outcomes} == {Status.ERROR}
    with fake_store.read() as s:
        assert s.scalar(select(func.count()).select_from(Nonconformity)) == 0


def test_unresolvable_targets_are_recorded_as_errors(fake_store, fake_settings, fake_registry):
    def no_targets(_settings):
        raise CollectorError("no credentials")

    fake_registry.scope_kinds["fake_box"] = ScopeKindSpec("fake_box", "fake", no_targets)
    summary = Runner(fake_store, fake_settings, fake_registry).collect([])
    assert summary.run.status == RunStatus.FAILED
    [outcome] = summary.outcomes
    assert outcome.scope == "fake" and outcome.status == Status.ERROR
    assert "no credentials" in first_reason(fake_store, outcome)


def test_stale_evidence_counts_as_missing(fake_store, fake_settings, fake_registry):
    Runner(fake_store, fake_settings, fake_registry).collect([])
    with fake_store.read() as s:
        run = s.execute(select(Run)).scalars().first()
    later = utcnow() + timedelta(hours=3)  # freshness limit is 1 h
    judged = Evaluator(fake_store, fake_settings, fake_registry, run, later).evaluate(
        list(fake_registry.checks.values())
    )
    assert {o.status for o in judged} == {Status.ERROR}
    assert "stale" in first_reason(fake_store, judged[0])
    assert nc_of(fake_store, "fake:b").state == "draft"


def test_records_are_let_go_once_no_later_check_reads_them(fake_store, fake_settings, fake_registry):
    Runner(fake_store, fake_settings, fake_registry).collect([])
    with fake_store.read() as s:
        run = s.execute(select(Run)).scalars().first()
    evaluator = Evaluator(fake_store, fake_settings, fake_registry, run, utcnow())
    judged = evaluator.evaluate(list(fake_registry.checks.values()))
    assert {o.status for o in judged} == {Status.PASS, Status.FAIL}
    assert evaluator._records == {}


def test_a_draft_closes_itself_when_the_check_passes_and_reopens_on_regression(
    fake_store, fake_settings, fake_registry, fake_world
):
    Runner(fake_store, fake_settings, fake_registry).collect([])
    fake_world.items["fake:b"]["y"] = True
    fixed = Runner(fake_store, fake_settings, fake_registry).collect([])
    nc = nc_of(fake_store, "fake:b")
    assert nc.state == "closed" and nc.last_run_id == fixed.run.id
    fake_world.items["fake:b"]["y"] = False
    Runner(fake_store, fake_settings, fake_registry).collect([])
    assert nc_of(fake_store, "fake:b").state == "draft"
    with fake_store.read() as s:
        states = s.execute(select(NcTransition.to_state).order_by(NcTransition.id)).scalars().all()
    assert states == ["draft", "closed", "draft"]


def test_an_accepted_nc_is_never_closed_by_the_machine(fake_store, fake_settings, fake_registry, fake_world):
    Runner(fake_store, fake_settings, fake_registry).collect([])
    with fake_store.write() as s:
        nc = s.execute(select(Nonconformity)).scalar_one()
        nc.state = "open"
    fake_world.items["fake:b"]["y"] = True
    Runner(fake_store, fake_settings, fake_registry).collect([])
    nc = nc_of(fake_store, "fake:b")
    assert nc.state == "open" and nc.ready_for_verification


def test_a_crashing_check_gives_error_not_pass(fake_store, fake_settings, fake_registry):
    def crash(ev):
        yield from ()
        raise ValueError("bad date 'yesterday'")

    spec = fake_registry.checks["fake.things.good"]
    fake_registry.checks["fake.things.good"] = CheckSpec(**{**spec.__dict__, "func": crash})
    summary = Runner(fake_store, fake_settings, fake_registry).collect([])
    assert {o.status for o in summary.outcomes} == {Status.ERROR}
    assert "ValueError: bad date" in first_reason(fake_store, summary.outcomes[0])


def test_runs_left_running_by_a_dead_process_are_aborted_and_not_counted(
    fake_store, fake_settings, fake_registry
):
    ghost = start_run(fake_store, "collect", [])
    with fake_store.write() as s:
        s.get(Run, ghost.id).pid = 2**22 + 12345  # no such process
    summary = Runner(fake_store, fake_settings, fake_registry).collect([])
    with fake_store.read() as s:
        reaped = s.get(Run, ghost.id)
    assert reaped.status == RunStatus.ABORTED and reaped.root_hash
    assert summary.run.prev_root_hash == reaped.root_hash


def test_a_check_with_nothing_to_judge_is_recorded(fake_store, fake_settings, fake_registry, fake_world):
    fake_world.items["fake:a"] = {}
    summary = Runner(fake_store, fake_settings, fake_registry).collect([])
    empty = next(o for o in summary.outcomes if o.scope == "fake:a")
    assert empty.status == Status.NOT_APPLICABLE and empty.counts == {}
    assert results_of(fake_store, empty.result_set) == []


@given(
    st.lists(
        st.sampled_from(["aws", "aws:1", "aws:1:eu-west-1", "aws:12", "aws:1:us-east-1", "gcp:o/1"]),
        unique=True,
    ),
    st.sampled_from(["aws:1", "aws:1:eu-west-1", "aws", "aws:12:x", "gcp:o/1"]),
)
def test_the_scope_index_agrees_with_related(scopes, scope):
    observations = [Observation(scope=s, source="x.y.z") for s in scopes]
    fast = {o.scope for o in _ScopeIndex(observations).related(scope, same_system=True)}
    assert fast == {s for s in scopes if related(scope, s, same_system=True)}


def test_ordered_map_keeps_order_bounds_memory_and_raises_in_place():
    import threading

    from agent.plugin.concurrency import ordered_map

    workers, pulled, threads = 4, [0], set()
    finished = [threading.Event() for _ in range(50)]

    def listing():
        for n in range(50):
            pulled[0] += 1
            yield n

    def square(n):
        threads.add(threading.current_thread().name)
        if n % 2 == 0:  # an even item finishes only after the next one: results complete out of order
            assert finished[n + 1].wait(60), f"item {n + 1} never ran"
        finished[n].set()
        if n == 40:
            raise ValueError("boom at 40")
        return n * n

    results = ordered_map(listing(), square, workers=workers)
    for n in range(40):
        assert next(results) == n * n
        # Pulled lazily (in this thread, so counted exactly): at most 2 * workers results are held,
        # the one just handed out included.
        assert pulled[0] - n <= 2 * workers
    with pytest.raises(ValueError, match="boom at 40"):
        next(results)
    assert len(threads) <= workers
