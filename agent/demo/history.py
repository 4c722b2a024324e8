"""Replay the demo's fortnight (`story`) through the product's own runs and NC actions, one day at a time
with the store's clock set to that day, so every day is a real collection, evaluated, recorded and sealed
on the signed chain as it would have been on the day."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from agent.audit.nc_actions import apply
from agent.audit.nonconformities import list_ncs
from agent.config.settings import Settings
from agent.demo.organisation import backdate
from agent.demo.people import PeopleSystems
from agent.demo.story import ACTOR, CHANGES, DAYS, STEPS, DemoWorld, Step
from agent.logs import get_logger
from agent.plugin.registry import Registry
from agent.run.runner import Progress, Runner, RunSummary
from agent.store import Store
from agent.store.types import clock_at

log = get_logger()

ACTIONS_AFTER = timedelta(hours=3)  # Dana acts on the day's findings a few hours after its collection


@dataclass(frozen=True)
class Demo:
    """What a day's run needs: the store and the agent's configuration, and the systems it collects."""

    store: Store
    settings: Settings
    registry: Registry
    sources: list[str]
    people: PeopleSystems
    endpoint: str


def day_at(today: datetime, day: int) -> datetime:
    """When day `day` (1..DAYS) of the story is collected: DAYS - day days before `today`."""
    return today - timedelta(days=DAYS - day)


class _AcrossDays:
    """One progress bar over the whole fortnight: the runner starts and stops one per run."""

    def __init__(self, inner: Progress) -> None:
        self.inner = inner
        self.started = False

    def start(self, total: int) -> None:
        if not self.started:
            self.started = True
            self.inner.start(total * DAYS)  # every day collects the same sources

    def advance(self, label: str, ok: bool) -> None:
        self.inner.advance(label, ok)

    def stop(self) -> None:
        """Left to `close`, after the last day."""

    def close(self) -> None:
        if self.started:
            self.inner.stop()


def replay(demo: Demo, today: datetime, progress: Progress | None = None) -> RunSummary:
    """Collect each day of the story at its time, then take Dana's steps of the day; returns the last
    day's (today's) collection."""
    world = DemoWorld(demo.endpoint)
    bar = _AcrossDays(progress) if progress is not None else None
    try:
        return [_replay_day(demo, world, day_at(today, day), day, bar) for day in range(1, DAYS + 1)][-1]
    finally:
        if bar is not None:
            bar.close()


def _replay_day(
    demo: Demo, world: DemoWorld, at: datetime, day: int, progress: Progress | None
) -> RunSummary:
    for change in CHANGES.get(day, ()):
        change(world)
    demo.people.show(at, world.cast)
    backdate(demo.endpoint, at)
    with clock_at(at):
        summary = Runner(demo.store, demo.settings, demo.registry, progress).collect(
            demo.sources, kind="demo"
        )
    with clock_at(at + ACTIONS_AFTER):
        for step in STEPS.get(day, ()):
            _take(demo.store, step, at)
    log.info("demo.day_replayed", day=day, run=summary.run.id)
    return summary


def _take(store: Store, step: Step, at: datetime) -> None:
    with store.read() as s:
        [ref] = [nc.ref for nc in list_ncs(s) if nc.check_id == step.check]
    change = step.change
    if step.due_in is not None:
        change = dataclasses.replace(change, due_date=(at + timedelta(days=step.due_in)).date())
    apply(store, ref, step.action, ACTOR, change)
