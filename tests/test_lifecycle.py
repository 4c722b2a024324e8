"""NC lifecycle: every transition people make, refusals that change nothing, and what the machine may do."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from agent.audit.nc_actions import ALLOWED, Change, apply
from agent.audit.nonconformities import NcState
from agent.errors import UsageError
from agent.plugin.model import Severity
from agent.run.runner import Runner
from agent.store.schema import NcTransition, Nonconformity

PLAN = Change(
    corrective_action="Replace the bad thing", owner="ops@acme.example", due_date=date(2026, 12, 31)
)


@pytest.fixture
def nc(fake_store, fake_settings, fake_registry):
    """A draft NC opened by a real run (y is bad in scope fake:b)."""
    Runner(fake_store, fake_settings, fake_registry).collect([])
    with fake_store.read() as s:
        return s.execute(select(Nonconformity)).scalar_one().ref


def act(store, ref, action, change: Change | None = None, actor="dana"):
    return apply(store, ref, action, actor, change or Change())


def state(store, ref):
    with store.read() as s:
        nc = s.execute(select(Nonconformity)).scalar_one()
        trail = s.execute(select(NcTransition.to_state).order_by(NcTransition.id)).scalars().all()
        return nc, trail


def rerun(store, settings, registry, world, good):
    world.items["fake:b"]["y"] = good
    Runner(store, settings, registry).collect([])


def test_the_full_lifecycle_records_who_when_and_why(
    nc, fake_store, fake_settings, fake_registry, fake_world
):
    act(
        fake_store,
        nc,
        "accept",
        Change(reason="confirmed", severity=Severity.MAJOR, nature="bad thing in prod"),
    )
    act(
        fake_store, nc, "plan", Change(**{**PLAN.__dict__, "root_cause": "no review", "correction": "hid it"})
    )
    act(fake_store, nc, "resolve", Change(reason="replaced the thing"))
    rerun(fake_store, fake_settings, fake_registry, fake_world, good=True)
    row, _ = state(fake_store, nc)
    assert row.state == "resolved" and row.ready_for_verification  # the machine never closes it
    act(fake_store, nc, "close", Change(effectiveness_review="re-collected: passes in run 2"))
    row, trail = state(fake_store, nc)
    assert trail == ["draft", "open", "action_planned", "resolved", "closed"]
    assert row.severity == "major" and row.suggested_severity == "minor"
    assert (row.owner, row.due_date, row.root_cause, row.correction) == (
        "ops@acme.example", date(2026, 12, 31), "no review", "hid it",
    )  # fmt: skip
    assert row.effectiveness_review.startswith("re-collected") and not row.ready_for_verification
    with fake_store.read() as s:
        accepted = s.execute(select(NcTransition).where(NcTransition.to_state == "open")).scalar_one()
    assert accepted.actor == "dana" and "severity minor -> major" in accepted.reason


def test_regression_after_closure_reopens_an_accepted_nc(
    nc, fake_store, fake_settings, fake_registry, fake_world
):
    act(fake_store, nc, "accept")
    act(fake_store, nc, "resolve", Change(reason="fixed"))
    rerun(fake_store, fake_settings, fake_registry, fake_world, good=True)
    act(fake_store, nc, "close", Change(effectiveness_review="verified"))
    rerun(fake_store, fake_settings, fake_registry, fake_world, good=False)
    row, trail = state(fake_store, nc)
    assert row.state == "open" and trail[-2:] == ["closed", "open"]


def test_a_resolved_nc_that_still_fails_goes_back_to_open(
    nc, fake_store, fake_settings, fake_registry, fake_world
):
    act(fake_store, nc, "accept")
    act(fake_store, nc, "resolve", Change(reason="we think it is fixed"))
    rerun(fake_store, fake_settings, fake_registry, fake_world, good=False)
    row, trail = state(fake_store, nc)
    assert row.state == "open" and trail[-1] == "open"


def test_reject_needs_a_reason_and_is_final(nc, fake_store):
    with pytest.raises(UsageError, match="--reason"):
        act(fake_store, nc, "reject")
    act(fake_store, nc, "reject", Change(reason="accepted risk: lab account"))
    with pytest.raises(UsageError, match="is rejected: cannot accept it"):
        act(fake_store, nc, "accept")


def test_close_is_refused_while_the_check_still_fails(nc, fake_store):
    act(fake_store, nc, "accept")
    act(fake_store, nc, "resolve", Change(reason="done"))
    with pytest.raises(UsageError, match="is not a pass"):
        act(fake_store, nc, "close", Change(effectiveness_review="looked at it"))


@pytest.mark.parametrize(
    ("steps", "action", "change", "message"),
    [
        ([], "plan", PLAN, "is draft: cannot plan it"),
        ([], "resolve", Change(reason="x"), "is draft: cannot resolve it"),
        ([], "close", Change(effectiveness_review="x"), "is draft: cannot close it"),
        (["accept"], "accept", Change(), "is open: cannot accept it"),
        (["accept"], "plan", Change(owner="x"), "needs --action"),
        (["accept"], "plan", Change(corrective_action="x", owner="y"), "needs --due"),
        (["accept"], "resolve", Change(), "needs --note"),
        (["accept"], "close", Change(effectiveness_review="x"), "is open: cannot close it"),
    ],
)
def test_illegal_transitions_are_refused_and_change_nothing(nc, fake_store, steps, action, change, message):
    for step in steps:
        act(fake_store, nc, step)
    before = state(fake_store, nc)
    with pytest.raises(UsageError, match=message):
        act(fake_store, nc, action, change)
    after = state(fake_store, nc)
    assert after[1] == before[1] and after[0].model_dump() == before[0].model_dump()


def test_every_action_has_a_source_state_and_a_target():
    assert set(ALLOWED) == {"accept", "plan", "resolve", "close", "reject"}
    reachable = {target for _, target in ALLOWED.values()}
    assert reachable == {
        NcState.OPEN,
        NcState.ACTION_PLANNED,
        NcState.RESOLVED,
        NcState.CLOSED,
        NcState.REJECTED,
    }


def test_unknown_nc(fake_store):
    with pytest.raises(UsageError, match="no nonconformity NC-0009"):
        act(fake_store, "NC-0009", "accept")
