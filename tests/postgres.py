"""A throwaway PostgreSQL server for the tests: the distribution's binaries, a temporary cluster on loopback.

`make test` installs Debian's `postgresql` package when it is missing and sets
ANNEXA_REQUIRE_SYSTEM_DEPS=1, so in CI a missing server fails the tests instead of skipping them.
Each pytest worker starts its own server (fsync off: nothing here needs to survive a crash) and
each test gets a fresh database.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

USER = "annexa"
INITDB_ARGS = ("-U", USER, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="annexa-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        # PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user.
        self._as: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _server_settings(self) -> list[tuple[str, object]]:
        return [
            ("listen_addresses", "127.0.0.1"),
            ("unix_socket_directories", self.root),
            ("fsync", "off"),  # nothing here needs to survive a crash
            ("synchronous_commit", "off"),
            ("full_page_writes", "off"),
            ("max_connections", 300),
        ]

    def start(self) -> None:
        subprocess.run(
            [*self._as, str(self.bin_dir / "initdb"), "-D", str(self.data), *INITDB_ARGS],
            check=True,
            capture_output=True,
        )
        self.proc = subprocess.Popen(
            [*self._as, str(self.bin_dir / "postgres"), "-D", str(self.data), "-p", str(self.port)]
            + [arg for name, value in self._server_settings() for arg in ("-c", f"{name}={value}")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with psycopg.connect(self.dsn("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the test PostgreSQL server did not start") from None
                time.sleep(0.2)

    def dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={USER} dbname={database}"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            # `runuser` stands between us and the postmaster: let pg_ctl signal it.
            subprocess.run(
                [*self._as, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "stop", "-m", "immediate"],
                capture_output=True,
                check=False,
            )
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bin_dir = _bin_dir()
    if bin_dir is None:
        message = "PostgreSQL server binaries not found (apt-get install postgresql)"
        if os.environ.get("ANNEXA_REQUIRE_SYSTEM_DEPS") == "1":
            pytest.fail(message + "; ANNEXA_REQUIRE_SYSTEM_DEPS=1 forbids skipping")
        pytest.skip(message)
    server = PgServer(bin_dir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    name = pg_server.create_database()
    yield pg_server.url(name)
    with contextlib.suppress(psycopg.Error):
        pg_server.drop_database(name)


BACKENDS = ["sqlite", "postgresql"]


def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """For a module's `store_url` fixture parametrised over BACKENDS: store and concurrency tests
    run on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")
