"""Benchmark: `annexa verify` of a bundle of 1,000,000 evidence records, against `annexa export` of it.

Prints, for a store of a tenth of the records and for the full one:
  - export and verify wall time, and verify/export                        (target <= 2.0)
  - peak memory of each command: the RSS of its largest process, and what it and its worker
    processes use together (proportional set sizes summed, sampled every 20 ms)
                                                                          (target < 300 MB, flat)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from agent.bundle.signing import create_key_pair, seal_keys
from bench.export import PER_SCOPE, build
from bench.measure import ANNEXA


def _kb(text: str, field: str) -> int:
    """A `Field:   1234 kB` line of a /proc file, in bytes (0 when absent)."""
    line = next((x for x in text.splitlines() if x.startswith(field + ":")), f"{field}: 0")
    return int(line.split()[1]) * 1024


def _memory(pid: int) -> tuple[int, int]:
    """Over a process and its descendants, from Linux's /proc: the memory they use together (the
    sum of proportional set sizes: a page shared by workers forked from the process counts once)
    and the largest one's peak RSS. (0, 0) for a process that has gone."""
    try:
        used = _kb(Path(f"/proc/{pid}/smaps_rollup").read_text(), "Pss")
        peak = _kb(Path(f"/proc/{pid}/status").read_text(), "VmHWM")
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (FileNotFoundError, ProcessLookupError):
        return 0, 0
    for child in children:
        child_used, child_peak = _memory(int(child))
        used, peak = used + child_used, max(peak, child_peak)
    return used, peak


@dataclass
class Measured:
    seconds: float
    cpu: float  # user + system, its workers included
    largest: int  # peak RSS of the process or of its largest worker
    total: int  # peak memory of the process and its workers together


def measured(args: list[str]) -> Measured:
    """Memory is sampled from /proc every 20 ms: a child's ru_maxrss would start from this
    process's own peak (Linux carries the high-water mark across fork and exec)."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    total = largest = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        used, peak = _memory(proc.pid)
        total, largest = max(total, used), max(largest, peak)
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{args[:2]} exited {proc.returncode}")
    return Measured(seconds, usage.ru_utime + usage.ru_stime, largest, total)


def measure(tmp: Path, records: int) -> tuple[Measured, Measured, int]:
    """Export, then verify with the pinned key, a bundle of `records`; returns both and its size."""
    db = tmp / f"store-{records}.db"
    t0 = time.perf_counter()
    build(db, records, seal_keys(str(tmp / "k.key")))
    print(f"built a store of {records:,} records in {time.perf_counter() - t0:.1f} s", flush=True)
    config = tmp / f"annexa-{records}.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{db}"\n[aws]\nenabled = true\n[export]\nsigning_key = "{tmp / "k.key"}"\n'
    )
    out = tmp / f"bundle-{records}.zip"
    export = measured([ANNEXA, "export", "--out", str(out), "--config", str(config)])
    verify = measured([ANNEXA, "verify", str(out), "--public-key", str(tmp / "k.pub")])
    db.unlink()
    return export, verify, out.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description="annexa verify benchmark")
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()
    mb = 1e6
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        create_key_pair(tmp / "k.key")
        rows = []
        for records in (max(2 * PER_SCOPE, args.records // 10), args.records):
            export, verify, size = measure(tmp, records)
            rows.append((records, export, verify, size))
        print(
            f"\n{os.cpu_count()} cores; wall s (cpu s); peak MB: RSS of the largest process / all processes"
        )
        print(f"{'records':>10} {'bundle MB':>9} {'export':>14} {'verify':>14} {'verify/export':>13}", end="")
        print(f" {'export RSS':>11} {'verify RSS':>11}")
        for records, export, verify, size in rows:
            print(
                f"{records:>10,} {size / mb:>9.0f} {export.seconds:>7.2f} ({export.cpu:4.1f})"
                f" {verify.seconds:>7.2f} ({verify.cpu:4.1f}) {verify.seconds / export.seconds:>13.2f}"
                f" {export.largest / mb:>5.0f} /{export.total / mb:>4.0f}"
                f" {verify.largest / mb:>5.0f} /{verify.total / mb:>4.0f}"
            )
        print("targets: verify/export <= 2.0; peak RSS < 300 MB, flat from the smaller store to the larger")


if __name__ == "__main__":
    main()
