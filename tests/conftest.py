"""Shared fixtures: a moto server per test process and a clean AWS environment per test."""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator

import pytest

FAKE_KEY_ID = "testing"
FAKE_SECRET = "testing"


@pytest.fixture(scope="session", autouse=True)
def _cache_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """What the agent caches (trimmed AWS models) goes to the session's temp dir, not the user's home."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache-home")))
        yield


@pytest.fixture(autouse=True)
def _logging_left_as_found() -> Iterator[None]:
    """A test that runs a command in process configures logging as the CLI does: structlog routed
    through a handler on the stderr pytest captured for that test. Left in place, every later test's
    events would go to a closed stream ("--- Logging error ---"), not where those tests look."""
    import structlog

    from agent import logs

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    config, applied = structlog.get_config(), list(logs._applied)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**config)
    logs._applied[:] = applied


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """One in-process moto server per process (so per xdist worker), on a free port."""
    with pytest.MonkeyPatch.context() as mp:
        # Read when moto creates a backend, so they must be set before the first request.
        mp.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        mp.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


def _reset_moto(endpoint: str) -> None:
    """Wipe moto's state, keeping its per-request cost low.

    moto resolves the account of every request by looking the access key up in the IAM backend of
    each of its six partitions, building each with ~1,500 AWS managed policies (~0.2 s apiece),
    and its reset rebuilds them all only to drop them. The partitions other than `aws` are never
    used here, so they are built empty; the `aws` one keeps its managed policies.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends
    from moto.utilities.utils import PARTITION_NAMES

    iam_backends.clear()
    with urllib.request.urlopen(
        urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30
    ):
        pass
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MOTO_IAM_LOAD_MANAGED_POLICIES")
        for partition in set(PARTITION_NAMES) - {"aws"}:
            iam_backends[DEFAULT_ACCOUNT_ID][partition]  # built on access, now without policies


@pytest.fixture
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Empty moto state and an environment where boto3 reaches only moto, with fake credentials."""
    _reset_moto(moto_server)
    nowhere = tmp_path_factory.getbasetemp() / "no-aws-config"
    for name in ("AWS_PROFILE", "AWS_REGION", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(nowhere))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(nowhere))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    return moto_server


from tests.fakeplugin import fake_registry, fake_settings, fake_store, fake_world, store_url  # noqa: E402, F401
from tests.postgres import pg_server, pg_url  # noqa: E402, F401
