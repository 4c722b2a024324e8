"""Check results: a content-addressed result set per distinct verdict list, a check run per scope."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from agent.logs import get_logger
from agent.plugin.model import Result, Status
from agent.store.chain import read_counted
from agent.store.db import Store, chunks, insert_all, insert_ignoring_duplicates, table_of
from agent.store.hashing import check_run_hash, result_set_hash
from agent.store.runs import newest_of_each, newest_per_scope
from agent.store.schema import CheckRun, ResultRow, ResultSet, Run, id_of

log = get_logger()

# A check's outcome in a scope: the worst of its results.
_OUTCOME_ORDER = (Status.FAIL, Status.ERROR, Status.PASS, Status.NOT_APPLICABLE)


def outcome_of(results: Sequence[Result]) -> Status:
    return outcome_of_statuses(r.status for r in results)


def outcome_of_statuses(statuses: Iterable[str]) -> Status:
    present = {Status(s) for s in statuses}
    for status in _OUTCOME_ORDER:
        if status in present:
            return status
    return Status.NOT_APPLICABLE


@dataclass(frozen=True)
class Verdict:
    """A check's results in one scope, as judged and before they are recorded."""

    check_id: str
    scope: str
    results: Sequence[Result]


def add_check_runs(
    session: Session, run: Run, verdicts: Sequence[Verdict], evaluated_at: datetime
) -> list[CheckRun]:
    """Record verdicts (a check run each, in this order) in a few statements for all of them;
    returns their check runs as stored (without the ids the database gave them)."""
    ordered = [sorted(v.results, key=lambda r: r.resource_id) for v in verdicts]
    # Rows are made a batch at a time, for the hash and again for the insert: a check can judge tens
    # of thousands of resources, and all their rows at once would double what judging holds.
    hashes = [result_set_hash(_row(r) for r in results) for results in ordered]
    sets = dict(zip(hashes, ordered, strict=True))
    # Only the writer that created a set adds its rows (see write_observation): the conflict
    # clause alone says which are new, no SELECT first.
    created: set[str] = set()
    for chunk in chunks(sorted(sets)):
        rows = [{"hash": h, "count": len(sets[h])} for h in chunk]
        created.update(key for (key,) in insert_ignoring_duplicates(session, ResultSet, rows))
    for chunk in chunks({"set_hash": h, **_row(r)} for h in sorted(created) for r in sets[h]):
        session.execute(table_of(ResultRow).insert(), chunk)
    check_runs = [
        _check_run(run, v, results, h, evaluated_at)
        for v, results, h in zip(verdicts, ordered, hashes, strict=True)
    ]
    insert_all(session, check_runs)
    return check_runs


def _check_run(run: Run, verdict: Verdict, ordered: list[Result], set_hash: str, at: datetime) -> CheckRun:
    counts = Counter(r.status for r in ordered)
    check_run = CheckRun(
        run_id=id_of(run),
        check_id=verdict.check_id,
        scope=verdict.scope,
        evaluated_at=at,
        outcome=outcome_of(ordered).value,
        passed=counts[Status.PASS],
        failed=counts[Status.FAIL],
        errored=counts[Status.ERROR],
        not_applicable=counts[Status.NOT_APPLICABLE],
        result_set=set_hash,
        hash="",
    )
    check_run.hash = check_run_hash(run.uid, check_run.model_dump())
    return check_run


def _row(result: Result) -> dict[str, Any]:
    return {
        "resource_id": result.resource_id,
        "status": result.status.value,
        "reason": result.reason,
        "evidence": list(result.evidence),
    }


def latest_check_runs(
    store: Store, check_id: str | None = None, at: datetime | None = None
) -> list[CheckRun]:
    """The newest counted evaluation of every (check, scope) (of `check_id` alone if given),
    whichever agent or shard made it, without stand-in scopes a newer evaluation of their parts
    replaced (see agent/plugin/scopes.py). The one query for "what a check last showed"; with
    `at`, what it showed then (only entries finished by `at`: agent/audit/asof.py).

    One whose row no longer matches its sealed hash (an outcome or count edited in the database)
    is shown as `error`: it proves nothing, and `annexa verify --store` names it."""
    only = () if check_id is None else (col(CheckRun.check_id) == check_id,)
    latest = read_counted(
        store,
        lambda counted: newest_per_scope(
            store,
            CheckRun,
            col(CheckRun.check_id),
            col(CheckRun.evaluated_at),
            counted,
            newest_of_each(CheckRun, "check_id", "evaluated_at", counted, at, *only),
        ),
    )
    with store.read() as s:
        rows = s.execute(select(col(Run.id), col(Run.uid)).where(col(Run.id).in_({c.run_id for c in latest})))
        uids = {rid: uid for rid, uid in rows}
    for cr in latest:
        if check_run_hash(uids.get(cr.run_id, ""), cr.model_dump()) != cr.hash:
            log.warning("check_run_unsealed", check=cr.check_id, scope=cr.scope, run=cr.run_id)
            cr.outcome = Status.ERROR.value
    return latest


def results_of(store: Store, result_set: str) -> list[ResultRow]:
    """The results of a check run (its `result_set`), by resource id."""
    with store.read() as s:
        return list(
            s.execute(
                select(ResultRow)
                .where(col(ResultRow.set_hash) == result_set)
                .order_by(col(ResultRow.resource_id))
            ).scalars()
        )
