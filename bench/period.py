"""Benchmark: `annexa period` over a year of daily runs, and an `--as-of` query on the same store.

Builds a signed SQLite store of 365 daily runs x 300 check-scopes (30 AWS checks in 10 accounts,
each run one observation per source and account), written through the store's own functions with
the clock injected, with a story in it: one check fails for 11 days in one account (its NC opened
and closed by the runs), another's source fails there for 3 days, a third is not evaluated in
another account for 6 days. `--keep DIR` keeps the store there and reuses it. Then prints:
  - `annexa period --from <day 1> --to <day 365> --json` through the console script: wall time
    (target <= 5 s) and peak RSS (target <= 300 MB), and that the story's conclusions came out
  - `annexa controls --as-of <day 183> --json`: median wall time of 3, beside the same command
    without --as-of and `annexa --help` (the console script's start-up), and the as-of query itself
    in process (target <= 0.5 s)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from agent import logs
from agent.audit.nonconformities import record_outcomes
from agent.bundle.signing import create_key_pair, seal_keys
from agent.plugin.loader import load_plugins
from agent.plugin.model import Result, RunStatus, Status
from agent.plugin.registry import CheckSpec, Registry
from agent.store import Store
from agent.store.observations import write_observation
from agent.store.results import Verdict, add_check_runs
from agent.store.runs import finish_run, start_run
from bench.measure import ANNEXA, measured, run_annexa
from tests.period_store import frozen

FIRST = date(2025, 1, 1)
FAILING = (0, 0, range(100, 111))  # check 0 fails in account 0 on days 100..110
BROKEN = (1, 0, range(200, 203))  # check 1's source fails in account 0 on days 200..202
MISSING = (2, 5, range(300, 306))  # check 2 is not evaluated in account 5 on days 300..305


def account(n: int) -> str:
    return f"aws:{n + 1:012d}"


def day_at(day: int) -> datetime:
    return datetime.combine(FIRST + timedelta(days=day - 1), datetime.min.time(), tzinfo=UTC) + timedelta(
        hours=6
    )


Judged = tuple[CheckSpec, str, list[Result]]


def build(
    root: Path,
    days: int,
    checks: list[CheckSpec],
    accounts: int,
    extra: Callable[[int], list[Judged]] | None = None,
) -> None:
    """The store: `days` sealed runs, each judging every check in every account, and whatever
    `extra(day)` adds to that day's run (judged, and its NCs recorded, in the same sealed entry)."""
    store = Store(f"sqlite:///{root / 'store.db'}", keys=seal_keys(str(root / "k.key")))
    sources = sorted({n for c in checks for n in c.needs})
    broken = checks[BROKEN[0]].needs[0]
    for day in range(1, days + 1):
        with frozen(day_at(day)):
            run = start_run(store, "collect", [])
            assert run.id is not None
            for a in range(accounts):
                for source in sources:
                    failed = (source, a) == (broken, BROKEN[1]) and day in BROKEN[2]
                    error = f"{source}: access denied" if failed else None
                    write_observation(store, run, source, account(a), day_at(day), error=error)
            verdicts: list[Verdict] = []
            failing: list[Judged] = []  # the story's check and scope, and any extra
            for n, spec in enumerate(checks):
                for a in range(accounts):
                    story = (n, a)
                    if story == MISSING[:2] and day in MISSING[2]:
                        continue
                    scope = account(a)
                    if broken in spec.needs and a == BROKEN[1] and day in BROKEN[2]:
                        results = [Result.error(scope, f"{broken} at {scope} could not be collected")]
                    elif story == FAILING[:2] and day in FAILING[2]:
                        results = [Result(f"{scope}:thing", Status.FAIL, "not good")]
                    else:
                        results = [Result(f"{scope}:thing", Status.PASS, "")]
                    verdicts.append(Verdict(spec.id, scope, results))
                    if story == FAILING[:2]:
                        failing.append((spec, scope, results))
            for spec, scope, results in extra(day) if extra else []:
                verdicts.append(Verdict(spec.id, scope, results))
                failing.append((spec, scope, results))
            with store.write() as s:
                add_check_runs(s, run, verdicts, day_at(day))
                record_outcomes(s, failing, run, day_at(day))
            finish_run(store, run.id, RunStatus.COMPLETE)
    store.close()


def aws_checks(everything: Registry, n: int) -> list[CheckSpec]:
    """The first `n` AWS checks by id: the checks every run judges in every account."""
    return sorted((c for c in everything.checks.values() if c.id.startswith("aws.")), key=lambda c: c.id)[:n]


def write_config(root: Path, everything: Registry, checks: list[CheckSpec], more: str = "") -> Path:
    """annexa.toml for the store in `root`: only `checks` on, then `more` (other sections)."""
    disabled = ", ".join(f'"{c}"' for c in sorted(set(everything.checks) - {c.id for c in checks}))
    config = root / "annexa.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{root / "store.db"}"\n[export]\nsigning_key = "{root / "k.key"}"\n'
        f"[aws]\nenabled = true\n[checks]\ndisabled = [{disabled}]\n{more}"
    )
    return config


def story(doc: dict[str, Any], checks: list[CheckSpec]) -> str:
    """What the report says of the story's three check-scopes; exits if it is not what was built."""
    scopes = {(c["id"], s["scope"]): s for c in doc["checks"] for s in c["scopes"]}
    failing = scopes[(checks[FAILING[0]].id, account(FAILING[1]))]
    broken = scopes[(checks[BROKEN[0]].id, account(BROKEN[1]))]
    missing = scopes[(checks[MISSING[0]].id, account(MISSING[1]))]
    [failure] = failing["failures"]
    found = (
        failure["duration_days"],
        failure["nc"] is not None,
        [(g["windows"], g["cause"]) for g in broken["gaps"]],
        [(g["windows"], g["cause"]) for g in missing["gaps"]],
    )
    expected = (
        float(len(FAILING[2])),
        True,
        [(len(BROKEN[2]), "error")],
        [(len(MISSING[2]), "not collected")],
    )
    if found != expected:
        raise SystemExit(f"the period report does not tell the story built: {found} != {expected}")
    (errors, _), (missed, _) = found[2][0], found[3][0]
    return f"failure of {found[0]} days with its NC; gaps of {errors} (error) and {missed} (not collected) windows"


def store_arguments(doc: str | None) -> argparse.ArgumentParser:
    """The options of the year's store this bench builds, which bench/web.py builds on too."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--checks", type=int, default=30)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--keep", type=Path, help="Keep the store in this directory; reuse it if there.")
    return parser


@contextmanager
def store_dir(args: argparse.Namespace) -> Iterator[tuple[Path, Registry, list[CheckSpec], bool]]:
    """Where the store is (`--keep`, else a directory removed afterwards), every check's spec, the
    `--checks` AWS checks the store judges, and whether a store is there to reuse."""
    logs.configure("warning")
    everything = load_plugins(Registry(), systems=())
    checks = aws_checks(everything, args.checks)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        yield root, everything, checks, (root / "store.db").exists()


def main() -> None:
    parser = store_arguments(__doc__)
    args = parser.parse_args()
    stories = (FAILING, BROKEN, MISSING)
    least = {
        "--days": max(days.stop for *_, days in stories),
        "--checks": max(check for check, *_ in stories) + 1,
        "--accounts": max(acct for _, acct, _ in stories) + 1,
    }
    given = {"--days": args.days, "--checks": args.checks, "--accounts": args.accounts}
    for option, minimum in least.items():
        if given[option] < minimum:
            parser.error(f"{option} must be at least {minimum}: the story built into the store needs it")
    with store_dir(args) as (root, everything, checks, reuse):
        if not reuse:
            create_key_pair(root / "k.key")
        config = write_config(root, everything, checks)
        started = time.perf_counter()
        if not reuse:
            build(root, args.days, checks, args.accounts)
        size = (root / "store.db").stat().st_size / 1e6
        print(
            f"{'reused' if reuse else 'built'} {args.days} daily runs x {len(checks) * args.accounts} "
            f"check-scopes in {time.perf_counter() - started:.0f} s ({size:.0f} MB)"
        )
        last = FIRST + timedelta(days=args.days - 1)
        period_s, rss, doc = run_annexa(
            [
                "period",
                "--from",
                FIRST.isoformat(),
                "--to",
                last.isoformat(),
                "--json",
                "--config",
                str(config),
            ],
            ok=(0,),
        )
        print(f"annexa period (a year):   {period_s:6.2f} s   (target <= 5 s)")
        print(f"peak RSS:                 {rss / 1e6:6.1f} MB  (target <= 300 MB)")
        print(f"conclusions:              {doc['summary']}")
        print(f"the story:                {story(doc, checks)}")
        mid = (FIRST + timedelta(days=args.days // 2)).isoformat()
        asof = [ANNEXA, "controls", "--as-of", mid, "--json", "--config", str(config)]
        latest = [ANNEXA, "controls", "--json", "--config", str(config)]
        timed = {
            f"controls --as-of {mid}:": statistics.median(measured(asof)[0] for _ in range(3)),
            "controls (latest):": statistics.median(measured(latest)[0] for _ in range(3)),
            "annexa --help:": statistics.median(measured([ANNEXA, "--help"])[0] for _ in range(3)),
        }
        for name, seconds in timed.items():
            print(f"{name:26}{seconds:6.2f} s")
        query = as_of_query(
            config, datetime.combine(date.fromisoformat(mid), datetime.max.time(), tzinfo=UTC)
        )
        print(f"{'the --as-of query itself:':26}{query:6.2f} s   (target <= 0.5 s; the rest is start-up)")


def as_of_query(config: Path, at: datetime) -> float:
    """The as-of read `controls --as-of` makes, timed in this process once its imports are warm:
    what the store answers, apart from the console script's start-up (imports, plugins)."""
    from agent.audit.controls import control_statuses
    from agent.config.settings import load_settings

    settings, _ = load_settings(config)
    registry = load_plugins(systems=settings.enabled_systems())
    store = Store(settings.store.url, keys=seal_keys(settings.export.signing_key))
    try:
        control_statuses(store, settings, registry, at=at)  # warms imports and caches
        times = []
        for _ in range(3):
            started = time.perf_counter()
            control_statuses(store, settings, registry, at=at)
            times.append(time.perf_counter() - started)
        return statistics.median(times)
    finally:
        store.close()


if __name__ == "__main__":
    main()
