"""How the benchmarks run a command: wall time and the child's own peak RSS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

ANNEXA = str(Path(sys.executable).with_name("annexa"))


def measured(
    argv: list[str], *, stderr: IO[str] | int = subprocess.DEVNULL, ok: tuple[int, ...] = (0,)
) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in bytes and the stdout of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)  # reaps the child and reports its own peak RSS
    elapsed = time.perf_counter() - started
    proc.stdout.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        raise SystemExit(f"{' '.join(argv[:2])} exited {code}")
    return elapsed, usage.ru_maxrss * 1024, out


def run_annexa(
    args: list[str], *, stderr: IO[str] | int = subprocess.DEVNULL, ok: tuple[int, ...] = (0, 1)
) -> tuple[float, int, Any]:
    """`measured` for `annexa args`, with its `--json` document parsed (None if it printed none)."""
    elapsed, rss, out = measured([ANNEXA, *args], stderr=stderr, ok=ok)
    return elapsed, rss, json.loads(out) if out.strip() else None
