"""Every benchmark script still starts: imports resolve and its options parse (`--help`)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[1] / "bench"
# Scripts run as `python bench/X.py`; the others (measure.py, replay.py) are what they import.
SCRIPTS = sorted(p.name for p in BENCH.glob("*.py") if 'if __name__ == "__main__":' in p.read_text())


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_benchmark_script_starts(script):
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage:")


@pytest.mark.slow
def test_the_dashboard_benchmark_measures_a_tiny_store(tmp_path):
    """bench/web.py end to end on a store of a few runs and NCs: it serves, measures and reports."""
    sizes = ["--days", "3", "--checks", "2", "--accounts", "2", "--ncs", "5"]
    load = ["--requests", "2", "--viewers", "2", "--rounds", "1"]
    proc = subprocess.run(
        [sys.executable, str(BENCH / "web.py"), *sizes, *load, "--keep", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "built 3 daily runs x 4 check-scopes and 5 NCs" in out
    assert re.search(r"overview, 2 in a row: +median +\d+ ms, p95 +\d+ ms .* (PASS|FAIL)\n", out), out
    assert re.search(
        r"2 viewers x 1 rounds x 5 pages: p50 \d+ ms, p95 \d+ ms, max \d+ ms, [\d.]+ requests/s, 0 failed",
        out,
    )
    assert re.search(r"server peak RSS: +[\d.]+ MB", out), out
