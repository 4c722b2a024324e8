"""Starting the real `annexa run` daemon for a test and talking to its endpoints."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.cli import ANNEXA

# How long a test waits for the daemon to get somewhere before calling it stuck: a safety net
# for a broken product, far beyond what any step takes on a busy machine.
PATIENCE = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(path: Path, store_url: str, port: int, grace: str = "10s", **schedule: str) -> Path:
    lines = [
        f'[store]\nurl = "{store_url}"',
        '[aws]\nenabled = true\nmax_attempts = 1\nregions = ["eu-west-1"]',
        "[schedule]\n" + "\n".join(f'{k} = "{v}"' for k, v in {"jitter": "0s", **schedule}.items()),
        f'[daemon]\nport = {port}\nshutdown_grace = "{grace}"',
    ]
    path.write_text("\n\n".join(lines) + "\n")
    return path


class Daemon:
    def __init__(self, config: Path, port: int, *args: str, endpoint: str | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANNEXA_")}
        if endpoint is not None:
            env["AWS_ENDPOINT_URL"] = endpoint
        self.port = port
        self.log = config.with_suffix(".log")
        self._log = self.log.open("w")
        self.proc = subprocess.Popen(
            [ANNEXA, "--log-level", "info", "run", "--config", str(config), *args],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
        )

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=PATIENCE) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        _, body = self.get("/metrics")
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(body)
            for sample in family.samples
        }

    def wait_ready(self) -> None:
        wait_for(self._ready, "the daemon to become ready")

    def _ready(self) -> bool:
        assert self.proc.poll() is None, f"daemon exited early:\n{self.log.read_text()}"
        try:
            return self.get("/readyz")[0] == 200
        except OSError:
            return False

    def stop(self) -> int:
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=PATIENCE)
        finally:
            self._log.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll until `condition` holds; only a product that never gets there runs out of PATIENCE."""
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {PATIENCE:.0f} s waiting for {what}")
        time.sleep(0.2)
