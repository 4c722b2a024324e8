"""`annexa demo`: a real collection against a simulated organisation: AWS served by an in-process moto,
Okta and Google Workspace by the simulators, HR from an export file."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.bundle.signing import create_key_pair, seal_keys
from agent.config.settings import Settings, load_settings
from agent.errors import UsageError
from agent.plugin.loader import load_plugins
from agent.plugin.registry import Registry
from agent.private_files import create_private
from agent.run.runner import Progress, RunSummary
from agent.store import Store

_DEMO_ENV = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}

# `annexa demo` works only in a directory of its own, marked as such by the MARKER file in it.
DEMO_STORE = "annexa.db"
MARKER = ".annexa-demo"
_MARKER_TEXT = b"annexa demo directory: `annexa demo` deletes and recreates everything in it.\n"


@contextmanager
def environment(values: dict[str, str], drop: tuple[str, ...]) -> Iterator[None]:
    """`values` set and `drop` unset in os.environ for the block, as they were after it."""
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
def moto_endpoint(latency: float = 0.0, wrap: Callable[[Any], Any] | None = None) -> Iterator[str]:
    """An in-process moto server on a free loopback port, with the demo's fake credentials.

    `latency` (seconds) delays every answer like a network round trip, for benchmarks whose
    subject is concurrency: moto itself answers in microseconds, real cloud APIs in tens of ms.
    `wrap` takes the server's WSGI app and returns the one to serve (a benchmark's recorder).
    """
    with environment(_DEMO_ENV, drop=("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL")):
        try:
            from moto.server import ThreadedMotoServer
        except ImportError:
            raise UsageError("annexa demo needs moto: pip install 'annexa[demo]' (make demo does)") from None
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        if latency:
            _wrap_app(server, lambda app: _delayed(app, latency))
        if wrap is not None:
            _wrap_app(server, wrap)
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        try:
            with environment({"AWS_ENDPOINT_URL": endpoint}, drop=()):
                yield endpoint
        finally:
            server.stop()


def _wrap_app(server: Any, wrap: Callable[[Any], Any]) -> None:
    wsgi = server._server  # the werkzeug server moto started
    wsgi.app = wrap(wsgi.app)


def _delayed(inner: Any, latency: float) -> Callable[[Any, Any], Any]:
    def delayed(environ: Any, start_response: Any) -> Any:
        time.sleep(latency)  # sleeping releases the GIL: waiting, not work, as on a network
        return inner(environ, start_response)

    return delayed


def _is_demo_dir(directory: Path) -> bool:
    try:
        fd = os.open(directory / MARKER, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:  # missing, or a symlink
        return False
    with os.fdopen(fd, "rb") as fh:
        return fh.read(len(_MARKER_TEXT) + 1) == _MARKER_TEXT


def prepare_demo_dir(directory: Path) -> None:
    """Make `directory` an empty demo directory carrying the marker, touching nothing else.

    Only a directory holding the marker is emptied (an empty one is adopted): a user's files are
    never deleted, a link in place of the directory is refused, and links inside it are removed,
    never followed.
    """
    if directory.is_symlink():
        raise UsageError(f"--dir {directory} is a symbolic link; choose another --dir")
    if directory.exists():
        ours = directory.is_dir() and (_is_demo_dir(directory) or not any(directory.iterdir()))
        if not ours:
            raise UsageError(f"{directory} exists and was not created by annexa demo; choose another --dir")
    elif not directory.parent.is_dir():
        raise UsageError(f"--dir: directory {directory.parent} does not exist")
    else:
        directory.mkdir(mode=0o700)
    for entry in directory.iterdir():
        if entry.name == MARKER:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    if not _is_demo_dir(directory):
        with create_private(directory / MARKER, mode=0o644) as fh:
            fh.write(_MARKER_TEXT)


def write_demo_config(directory: Path, sections: str = "") -> Path:
    """A config in the demo directory so later commands (`nc show`, `controls`) can read it;
    `sections` adds the simulated people systems' sections."""
    config, key = directory / "annexa.toml", directory / "annexa-signing.key"
    text = (
        "# Written by `annexa demo`, which recreates this directory on every run.\n"
        f"[store]\nurl = {json.dumps(f'sqlite:///{(directory / DEMO_STORE).resolve()}')}\n\n"
        '[aws]\nenabled = true\nmax_attempts = 2\nregions = ["eu-west-1"]\n\n'
        f"{sections}"
        f"[export]\nsigning_key = {json.dumps(str(key.resolve()))}\n"
    )
    with create_private(config) as fh:
        fh.write(text.encode("utf-8"))
    create_key_pair(key)
    return config


# The embedded AWS simulator has no SSM instance inventory and no Access Analyzer: the demo leaves
# those sources out rather than show their errors (a real account is collected in full).
SIMULATOR_LACKS = frozenset(
    {"aws.ssm.managed_instances", "aws.accessanalyzer.analyzers", "aws.accessanalyzer.findings"}
)


def run_demo(
    directory: Path, progress: Progress | None = None, today: datetime | None = None
) -> tuple[RunSummary, Settings, Store, Registry]:
    """Set up the demo organisation in `directory` and replay its fortnight up to `today` (now by
    default); returns today's collection and what reads the store."""
    from agent.demo.history import Demo, replay
    from agent.demo.organisation import seed_demo_org
    from agent.demo.people import people_servers

    today = today or datetime.now(UTC)
    prepare_demo_dir(directory)
    with people_servers(directory, today) as people, moto_endpoint() as endpoint:
        settings, _ = load_settings(write_demo_config(directory, people.sections))
        registry = load_plugins(systems=settings.enabled_systems())
        store = Store(settings.store.url, keys=seal_keys(settings.export.signing_key))
        seed_demo_org(endpoint)
        sources = sorted(s for s in registry.collectors if s not in SIMULATOR_LACKS)
        summary = replay(Demo(store, settings, registry, sources, people, endpoint), today, progress)
    return summary, settings, store, registry
