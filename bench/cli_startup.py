"""Benchmark: how long the `annexa` console script takes to start, against a bare interpreter.

Prints the median wall time of each command line (each run a new process) and its ratio to
`python -c pass`:
  - `annexa --help`                                      (target <= 0.35 s)
  - `annexa nc list --json` on a small store             (target <= 0.60 s)
The store is a fresh SQLite file with its signing key, created (and migrated) by one untimed
`nc list`, so the timed runs measure start-up and one read, not the schema's creation; `[aws]` is
enabled, so a command that only reads the registers is seen not to load a cloud SDK. The
package's bytecode is compiled first, as installing it does (a source checkout under
PYTHONDONTWRITEBYTECODE would otherwise recompile every module on every run).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agent.bundle.signing import create_key_pair
from bench.measure import ANNEXA, compiled


def wall(args: list[str], env: dict[str, str], runs: int) -> float:
    """Median seconds of `runs` runs of `args`, after one untimed run to warm the file cache."""
    times = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNEXA_")}
    compiled()
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "annexa-signing.key"
        create_key_pair(key)
        config = Path(tmp) / "annexa.toml"
        config.write_text(
            f'[store]\nurl = "sqlite:///{Path(tmp) / "annexa.db"}"\n\n[export]\nsigning_key = "{key}"\n'
            "\n[aws]\nenabled = true\n"
        )
        nc_list = [ANNEXA, "nc", "list", "--json", "--config", str(config)]
        subprocess.run(nc_list, env=env, check=True, stdout=subprocess.DEVNULL)
        bare = wall([sys.executable, "-c", "pass"], env, args.runs)
        timed = [
            ("annexa --help", wall([ANNEXA, "--help"], env, args.runs), 0.35),
            ("annexa nc list --json", wall(nc_list, env, args.runs), 0.60),
        ]
    print(f"median of {args.runs} runs, wall time:")
    print(f"python -c pass:          {bare:6.3f} s")
    for name, seconds, target in timed:
        verdict = "met" if seconds <= target else "NOT met"
        print(
            f"{name + ':':24} {seconds:6.3f} s  ratio {seconds / bare:5.1f}x"
            f"  (target <= {target:.2f} s: {verdict})"
        )


if __name__ == "__main__":
    main()
