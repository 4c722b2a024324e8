"""Runs and the chain: each entry's status and seal, and one run's observations and evaluations."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import Response

from agent.errors import UsageError
from agent.store.chain import badly_signed, chain_state
from agent.store.schema import CheckRun, Observation, Run
from agent.web.context import Web
from agent.web.roles import User
from agent.web.routing import page, render

LISTED = 100


def _seals(web: Web, runs: list[Run]) -> dict[int, str]:
    """Why each run does not count (as `annexa status` says it), or "valid"."""
    with web.store.read() as s:
        problems = chain_state(s, web.store.keys, signatures=False).problems
    for rid in badly_signed(web.store, [r.id for r in runs]):
        problems[rid] = "its signature does not verify under the store's key"
    return {r.id or 0: "running" if r.status == "running" else problems.get(r.id or 0, "valid") for r in runs}


@page()
def runs(request: Request, user: User, web: Web) -> Response:
    with web.store.read() as s:
        rows = list(s.execute(select(Run).order_by(col(Run.id).desc()).limit(LISTED)).scalars())
        state = chain_state(s, web.store.keys, signatures=False)
    return render(
        request, user, "runs.html", title="Runs and chain", runs=rows, seals=_seals(web, rows),
        sealed=len(state.ordered), problems=state.problems, signed=web.store.keys is not None,
    )  # fmt: skip


@page()
def run(request: Request, user: User, web: Web) -> Response:
    raw = request.path_params["rid"]
    if not raw.isdigit() or len(raw) > 9:
        raise UsageError(f"{raw!r} is not a run number")
    with web.store.read() as s:
        entry = s.get(Run, int(raw))
        if entry is None:
            raise UsageError(f"no run {raw}")
        observations = list(
            s.execute(
                select(Observation)
                .where(col(Observation.run_id) == entry.id)
                .order_by(col(Observation.source), col(Observation.scope))
            ).scalars()
        )
        outcomes = Counter(
            o for (o,) in s.execute(select(col(CheckRun.outcome)).where(col(CheckRun.run_id) == entry.id))
        )
    return render(
        request, user, "run.html", title=f"Run {entry.id}", run=entry, seal=_seals(web, [entry])[entry.id or 0],
        observations=observations, outcomes=dict(sorted(outcomes.items())),
    )  # fmt: skip
