"""`annexa demo`: a real collection against a simulated organisation served by an in-process moto."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agent.config import Settings, enabled_systems, load_settings
from agent.errors import UsageError
from agent.registry import Registry, load_plugins
from agent.runner import Runner, RunSummary
from agent.signing import create_key_pair
from agent.store import Store

_DEMO_ENV = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}


@contextmanager
def _environment(values: dict[str, str], drop: tuple[str, ...]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in (*values, *drop)}
    os.environ.update(values)
    for key in drop:
        os.environ.pop(key, None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def moto_endpoint(latency: float = 0.0) -> Iterator[str]:
    """An in-process moto server on a free loopback port, with the demo's fake credentials.

    `latency` (seconds) delays every answer like a network round trip, for benchmarks whose
    subject is concurrency: moto itself answers in microseconds, real cloud APIs in tens of ms.
    """
    with _environment(_DEMO_ENV, drop=("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL")):
        try:
            from moto.server import ThreadedMotoServer
        except ImportError:
            raise UsageError("annexa demo needs moto: pip install 'annexa[demo]' (make demo does)") from None
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        if latency:
            _delay_answers(server, latency)
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        try:
            with _environment({"AWS_ENDPOINT_URL": endpoint}, drop=()):
                yield endpoint
        finally:
            server.stop()


def _delay_answers(server: Any, latency: float) -> None:
    wsgi = server._server  # the werkzeug server moto started
    inner = wsgi.app

    def delayed(environ: Any, start_response: Any) -> Any:
        time.sleep(latency)  # sleeping releases the GIL: waiting, not work, as on a network
        return inner(environ, start_response)

    wsgi.app = delayed


def write_demo_config(store_path: Path) -> Path:
    """A config next to the demo store so later commands (`nc show`, `controls`) can read it."""
    config = store_path.with_suffix(".toml")
    key = store_path.with_suffix(".key")
    config.write_text(
        "# Written by `annexa demo`.\n"
        f'[store]\nurl = "sqlite:///{store_path.resolve()}"\n\n'
        '[aws]\nenabled = true\nmax_attempts = 2\nregions = ["eu-west-1"]\n\n'
        f'[export]\nsigning_key = "{key.resolve()}"\n',
        encoding="utf-8",
    )
    if not key.exists():
        create_key_pair(key)
    return config


def run_demo(store_path: Path, progress: Any = None) -> tuple[RunSummary, Settings, Store, Registry]:
    from agent.demo_org import seed_demo_org

    if not store_path.parent.is_dir():
        raise UsageError(f"--store: directory {store_path.parent} does not exist")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store_path}{suffix}").unlink(missing_ok=True)
    settings, _ = load_settings(write_demo_config(store_path))
    registry = load_plugins(systems=enabled_systems(settings))
    store = Store(settings.store.url)
    with moto_endpoint() as endpoint:
        seed_demo_org(endpoint)
        summary = Runner(store, settings, registry, progress).collect([], kind="demo")
    return summary, settings, store, registry
