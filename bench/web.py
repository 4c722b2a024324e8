"""Benchmark: the dashboard over a year of daily runs with 1,000 nonconformities, on loopback.

Builds (or reuses, `--keep DIR`) bench/period.py's store: 365 sealed daily runs x 300 check-scopes
(30 AWS checks in 10 accounts), plus `--ncs` short-lived accounts' failures, each judged once in
that day's run and its NC opened by the product's own record path (so 1,000 NCs, all still
open: the heaviest register). The dashboard runs in a child process (agent.web.app.Server, its
clock at noon on the last day); viewers sign in through a trusted proxy's user header. Prints:
  - the first overview (the 30-day trends are computed then, and kept per chain head) apart, then
    the median and p95 of `--requests` sequential overviews (target: median <= 200 ms)
  - `--viewers` concurrent viewers, each with its own connection, requesting the overview, the
    controls, the NC register, an NC and a control `--rounds` times: p50, p95 (target <= 1 s),
    max and requests per second
  - the server process's peak RSS
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path

import httpx
from sqlalchemy import func, select

from agent import logs
from agent.bundle.signing import create_key_pair, seal_keys
from agent.config.settings import load_settings
from agent.plugin.loader import load_plugins
from agent.plugin.model import Result, Status
from agent.plugin.registry import CheckSpec
from agent.store import Store
from agent.store.schema import Nonconformity
from agent.web.app import Server, create_app
from bench.measure import served_in_child
from bench.period import Judged, build, day_at, store_arguments, store_dir, write_config

USER_HEADER = "X-Forwarded-User"
VIEWER = "viewer@bench.example"
CONTROL = "A.8.15"  # the control most AWS checks map to: the longest control page
TARGET_MEDIAN_S, TARGET_P95_S = 0.2, 1.0
TIMEOUT_S = 60.0  # a request still unanswered then counts as failed


def short_lived(checks: list[CheckSpec], days: int, ncs: int) -> Callable[[int], list[Judged]]:
    """NC n: check n % len(checks) fails once in short-lived account n // len(checks), on a day
    spread evenly over the year; the account is never judged again, so the NC stays open."""
    per_day: dict[int, list[Judged]] = {}
    for n in range(ncs):
        day = 1 + n * days // ncs
        scope = f"aws:9{n // len(checks):011d}"
        result = Result(f"{scope}:thing", Status.FAIL, "left behind by a closed project")
        per_day.setdefault(day, []).append((checks[n % len(checks)], scope, [result]))
    return lambda day: per_day.get(day, [])


def nc_count(config: Path) -> int:
    """The NCs the store holds (a reused one keeps the sizes it was built with)."""
    settings, _ = load_settings(config)
    store = Store(settings.store.url)
    try:
        with store.read() as s:
            return int(s.execute(select(func.count()).select_from(Nonconformity)).scalar_one())
    finally:
        store.close()


def serve(args: argparse.Namespace, conn: Connection) -> None:
    """In the child: the dashboard over the store, until the parent says stop."""
    logs.configure("warning")
    settings, _ = load_settings(args.config)
    registry = load_plugins(systems=settings.enabled_systems())
    store = Store(settings.store.url, keys=seal_keys(settings.export.signing_key))
    noon = day_at(args.days) + timedelta(hours=6)
    server = Server(
        create_app(settings, store, registry, os.urandom(24).hex(), clock=lambda: noon), "127.0.0.1", 0
    )
    server.start()
    conn.send(f"http://{server.address}")
    conn.recv()
    server.stop()
    store.close()


def timed(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    answer = client.get(path)
    elapsed = time.perf_counter() - started
    if answer.status_code != 200:
        raise RuntimeError(f"GET {path}: {answer.status_code}")
    return elapsed


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def viewers(url: str, count: int, rounds: int, pages: list[str]) -> tuple[list[float], int, float]:
    """`count` threads, each a viewer with its own connection, all let go at once: the latencies of
    the answered requests, how many failed (an error status or no answer in time), and wall time."""
    latencies: list[float] = []
    failed = 0
    lock = threading.Lock()
    go = threading.Barrier(count + 1)

    def viewer() -> None:
        nonlocal failed
        with httpx.Client(base_url=url, headers={USER_HEADER: VIEWER}, timeout=TIMEOUT_S) as client:
            go.wait()
            for _ in range(rounds):
                for page in pages:
                    try:
                        took = timed(client, page)
                    except (httpx.HTTPError, RuntimeError):
                        with lock:
                            failed += 1
                        continue
                    with lock:
                        latencies.append(took)

    threads = [threading.Thread(target=viewer) for _ in range(count)]
    for t in threads:
        t.start()
    go.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return latencies, failed, time.perf_counter() - started


def peak_rss(pid: int) -> int:
    """A live process's peak resident set (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def measure(url: str, args: argparse.Namespace, server_pid: int) -> None:
    pages = ["/", "/controls", "/ncs", "/ncs/NC-0001", f"/controls/{CONTROL}"]
    with httpx.Client(base_url=url, headers={USER_HEADER: VIEWER}, timeout=TIMEOUT_S) as client:
        first = timed(client, "/")
        overview = [timed(client, "/") for _ in range(args.requests)]
        alone = {page: statistics.median(timed(client, page) for _ in range(3)) for page in pages}
        sizes = {page: len(client.get(page).content) for page in pages}
    median = statistics.median(overview)
    print(
        f"first overview:           {first * 1000:7.0f} ms  (computes the 30-day trends, kept per chain head)"
    )
    print(
        f"overview, {args.requests} in a row:   median {median * 1000:5.0f} ms, p95 "
        f"{percentile(overview, 0.95) * 1000:5.0f} ms  (target: median <= {TARGET_MEDIAN_S * 1000:.0f} ms) "
        f"{verdict(median <= TARGET_MEDIAN_S)}"
    )
    print(
        "one viewer, median of 3:  "
        + ", ".join(f"{p} {alone[p] * 1000:.0f} ms ({sizes[p] / 1000:.0f} kB)" for p in pages)
    )
    latencies, failed, wall = viewers(url, args.viewers, args.rounds, pages)
    p95 = percentile(latencies, 0.95) if latencies else float("inf")
    ok = p95 <= TARGET_P95_S and not failed
    print(
        f"{args.viewers} viewers x {args.rounds} rounds x {len(pages)} pages: p50 "
        f"{percentile(latencies, 0.5) * 1000 if latencies else 0:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {max(latencies, default=0) * 1000:.0f} ms, {len(latencies) / wall:.1f} requests/s, "
        f"{failed} failed  (target: p95 <= {TARGET_P95_S:.0f} s, none failed) {verdict(ok)}"
    )
    print(f"server peak RSS:          {peak_rss(server_pid) / 1e6:7.1f} MB")


def main() -> None:
    parser = store_arguments(__doc__)
    parser.add_argument("--ncs", type=int, default=1000, help="Short-lived accounts' failures, one NC each.")
    parser.add_argument("--requests", type=int, default=30, help="Sequential overviews timed.")
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2, help="Times each viewer requests every page.")
    args = parser.parse_args()
    with store_dir(args) as (root, everything, checks, reuse):
        web = f'[web]\nsession_key_file = "{root / "web.key"}"\nproxy_user_header = "{USER_HEADER}"\n'
        args.config = write_config(root, everything, checks, web + f'[web.roles]\n"{VIEWER}" = "viewer"\n')
        started = time.perf_counter()
        if not reuse:
            create_key_pair(root / "k.key")
            build(root, args.days, checks, args.accounts, short_lived(checks, args.days, args.ncs))
        print(
            f"{'reused' if reuse else 'built'} {args.days} daily runs x {len(checks) * args.accounts} check-scopes "
            f"and {nc_count(args.config)} NCs in {time.perf_counter() - started:.0f} s "
            f"({(root / 'store.db').stat().st_size / 1e6:.0f} MB)"
        )
        with served_in_child(serve, args) as url:
            [server] = multiprocessing.active_children()
            assert server.pid is not None
            measure(url, args, server.pid)


if __name__ == "__main__":
    main()
