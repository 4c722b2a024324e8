"""How the benchmarks run a command: wall time and the child's own peak RSS."""

from __future__ import annotations

import compileall
import functools
import json
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, Any

ANNEXA = str(Path(sys.executable).with_name("annexa"))
ROOT = Path(__file__).resolve().parents[1]


@functools.cache
def compiled() -> None:
    """Annexa's bytecode written, as installing the package does: a source checkout run under
    PYTHONDONTWRITEBYTECODE would otherwise recompile every changed module on every timed run
    (~0.1 s of a collect), while a tool installed from PyPI never does."""
    for package in ("agent", "collectors", "checks"):
        compileall.compile_dir(ROOT / package, quiet=1)


def measured(
    argv: list[str], *, stderr: IO[str] | int = subprocess.DEVNULL, ok: tuple[int, ...] = (0,)
) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in bytes and the stdout of one child process."""
    compiled()
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


# Forks the command from a small interpreter and reports its wait4 figures on the fd named in argv[1].
_LAUNCHER = """import os, sys, time
fd, argv = int(sys.argv[1]), sys.argv[2:]
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.close(fd)
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
os.write(fd, f"{time.perf_counter() - started} {usage.ru_maxrss}".encode())
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measured_alone(
    argv: list[str], *, stderr: IO[str] | int = subprocess.DEVNULL, ok: tuple[int, ...] = (0,)
) -> tuple[float, int, str]:
    """`measured`, for a caller whose own memory is large (an in-process simulator, say).

    Linux reports as a process's peak RSS the larger of its own and that of the memory image it
    replaced by exec: a child spawned straight from a 500 MB process is reported at >= 500 MB
    whatever it used. Here a fresh small interpreter forks and waits for the command, so the
    figure is the command's own unless it stays below that interpreter's ~10 MB."""
    compiled()
    read, write = os.pipe()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-S", "-c", _LAUNCHER, str(write), *argv],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            pass_fds=(write,),
        )
        os.close(write)
        write = -1
        assert proc.stdout is not None
        out = proc.stdout.read()
        code = proc.wait()
        proc.stdout.close()
        with os.fdopen(read, "rb") as fh:
            read = -1
            figures = fh.read().split()
    finally:
        for fd in (read, write):
            if fd >= 0:
                os.close(fd)
    if code not in ok or len(figures) != 2:
        raise SystemExit(f"{' '.join(argv[:2])} exited {code}")
    return float(figures[0]), int(figures[1]) * 1024, out


def run_annexa(
    args: list[str], *, stderr: IO[str] | int = subprocess.DEVNULL, ok: tuple[int, ...] = (0, 1)
) -> tuple[float, int, Any]:
    """`measured` for `annexa args`, with its `--json` document parsed (None if it printed none)."""
    elapsed, rss, out = measured([ANNEXA, *args], stderr=stderr, ok=ok)
    return elapsed, rss, json.loads(out) if out.strip() else None


@contextmanager
def served_in_child(serve: Callable[[Any, Connection], None], args: Any) -> Iterator[str]:
    """A local API server in its own process (so its work does not share the measured one's CPU time):
    `serve(args, conn)` sends its URL, then serves until told to stop. Yields the URL."""
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(args, child), daemon=True)
    server.start()
    try:
        yield parent.recv()
    finally:
        parent.send("stop")
        server.join(timeout=10)
