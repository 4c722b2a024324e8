"""The store on both backends: migrations, leases, and concurrent writers from several agents."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, inspect, select, text
from sqlmodel import SQLModel

from agent.errors import StoreError
from agent.plugin.model import Record, RunStatus
from agent.store import Store, leases
from agent.store.leases import Holder, LeaseHeld
from agent.store.migrate import FIRST, alembic_config, head_revision
from agent.store.observations import EvidenceBuffer, write_observation
from agent.store.runs import finish_run, start_run
from agent.store.schema import Lease, Observation, Run, Tree, TreeEntry
from agent.store.types import utcnow
from agent.store.verify import verify_store
from tests.postgres import BACKENDS, backend_url

TTL = timedelta(minutes=5)


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path):
    return backend_url(request, tmp_path)


@pytest.fixture
def store(store_url):
    s = Store(store_url)
    yield s
    s.close()


def in_threads(n: int, work) -> list:
    """Run `work(i)` in n threads released together; re-raise the first error."""
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if errors:
        raise errors[0]
    return results


def test_migrations_build_exactly_the_models(store_url):
    """A new store is built from the models at once (no Alembic); the migrations must build the same."""
    engine = create_engine(store_url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert context.get_current_revision() == head_revision()
            assert compare_metadata(context, SQLModel.metadata) == []
    finally:
        engine.dispose()


def test_a_new_store_that_fails_half_way_is_left_empty(tmp_path):
    """No half-built schema without a version row, which a later start would take for an old store."""
    url = f"sqlite:///{tmp_path / 'half.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:  # a view named as an index made late: that CREATE INDEX fails
        conn.exec_driver_sql("CREATE VIEW ix_nonconformity_state AS SELECT 1 AS x")
    engine.dispose()
    with pytest.raises(Exception, match="ix_nonconformity_state"):
        Store(url)
    engine = create_engine(url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_a_new_store_is_built_from_the_models_and_stamped_at_head(store):
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert context.get_current_revision() == head_revision()
        assert compare_metadata(context, SQLModel.metadata) == []
        assert {"run", "observation", "nc_version", "alembic_version"} <= set(inspect(conn).get_table_names())


def test_agents_starting_together_migrate_once(store_url):
    stores = in_threads(4, lambda _i: Store(store_url))
    with stores[0].engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    for s in stores:
        s.close()


def test_a_store_newer_than_the_agent_is_refused(store, store_url):
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffffffff'"))
    with pytest.raises(StoreError, match="newer than this agent knows"):
        Store(store_url)


def test_a_store_made_before_migrations_is_adopted(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:  # what a store made by create_all looked like: no lease, no version
        command.upgrade(alembic_config(conn), FIRST)
        conn.execute(text("DROP TABLE lease"))
        conn.execute(text("DROP TABLE alembic_version"))
    engine.dispose()
    adopted = Store(url)
    assert {"lease", "alembic_version", "nc_version"} <= adopted.tables()


def test_a_lease_is_exclusive_until_released_or_expired(store):
    daemon, person = Holder.new("run"), Holder.new("collect")
    got, held = leases.acquire(store, daemon, {"aws:1", "aws:2"}, TTL, all_or_nothing=True)
    assert got == {"aws:1", "aws:2"} and held == []
    with pytest.raises(LeaseHeld) as refused:
        leases.acquire(store, person, {"aws:2", "aws:3"}, TTL, all_or_nothing=True)
    assert refused.value.exit_code == 75
    assert "aws:2 is held by `annexa run`" in str(refused.value)
    assert {c.key for c in leases.current(store)} == {"aws:1", "aws:2"}  # aws:3 was not kept either

    got, held = leases.acquire(store, person, {"aws:2", "aws:3"}, TTL, all_or_nothing=False)
    assert got == {"aws:3"} and [c.key for c in held] == ["aws:2"]

    leases.release(store, daemon)
    got, _ = leases.acquire(store, person, {"aws:1", "aws:2"}, TTL, all_or_nothing=True)
    assert got == {"aws:1", "aws:2"}


def test_an_expired_lease_can_be_taken_and_its_old_holder_learns_it_lost_it(store):
    dead, alive = Holder.new("run"), Holder.new("collect")
    leases.acquire(store, dead, {"aws:1"}, TTL, all_or_nothing=True)
    with store.write() as s:
        s.get(Lease, "aws:1").expires_at = utcnow() - timedelta(seconds=1)
    got, _ = leases.acquire(store, alive, {"aws:1"}, TTL, all_or_nothing=True)
    assert got == {"aws:1"}
    assert leases.renew(store, dead, {"aws:1"}, TTL) == {"aws:1"}  # lost
    assert leases.renew(store, alive, {"aws:1"}, TTL) == set()


def test_a_lease_of_a_dead_process_on_this_host_is_freed_at_once(store):
    ghost = Holder(id="gone:1", kind="run", host=Holder.new("x").host, pid=2**22 + 7)  # no such process
    leases.acquire(store, ghost, {"aws:1"}, TTL, all_or_nothing=True)
    got, _ = leases.acquire(store, Holder.new("collect"), {"aws:1"}, TTL, all_or_nothing=True)
    assert got == {"aws:1"}


def test_racing_agents_get_each_lease_exactly_once(store):
    keys = {f"aws:{n}" for n in range(20)}
    holders = [Holder.new("run") for _ in range(6)]
    won = in_threads(6, lambda i: leases.acquire(store, holders[i], keys, TTL, all_or_nothing=False)[0])
    assert sorted(k for keys_won in won for k in keys_won) == sorted(keys)
    with store.read() as s:
        assert s.execute(select(func.count()).select_from(Lease)).scalar_one() == 20


def test_concurrent_runs_chain_linearly_and_share_identical_evidence(store):
    buffer = EvidenceBuffer("fake.things.items")
    for n in range(300):
        buffer.add(Record(f"item-{n:03d}", {"n": n, "good": n % 2 == 0}))

    def agent(i: int) -> None:
        run = start_run(store, "collect", [])
        write_observation(store, run, "fake.things.items", f"fake:{i}", utcnow(), buffer)
        finish_run(store, run.id, RunStatus.COMPLETE)

    in_threads(6, agent)
    with store.read() as s:
        runs = s.execute(select(Run).order_by(Run.id)).scalars().all()
        assert s.execute(select(func.count()).select_from(Observation)).scalar_one() == 6
        assert s.execute(select(func.count()).select_from(Tree)).scalar_one() == 1
        assert s.execute(select(func.count()).select_from(TreeEntry)).scalar_one() == 300
    assert len(runs) == 6 and all(r.status == "complete" for r in runs)
    assert len({r.prev_root_hash for r in runs}) == 6  # no fork: each run follows a different one
    assert verify_store(store).ok
