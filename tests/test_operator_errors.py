"""A careful operator's mistakes: the real console script never destroys, leaks or crashes on them.

`annexa demo` touches only a directory of its own; exit codes say whether a collection got its
evidence; a locked store is "busy" (75), never SQL; a store password never reaches the terminal;
the files the agent creates are private and never written through a symlink; inputs too large
for a date, an id or a duration are usage errors (2), not internal ones (3).
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import errors as pg

from agent.demo.setup import MARKER, prepare_demo_dir, write_demo_config
from agent.store import Store
from agent.store.db import is_busy
from tests.cli import annexa
from tests.graph_server import GraphData, GraphServer
from tests.test_cli_errors import assert_one_line_error

pytestmark = pytest.mark.slow

SECRET = "s3cr3t"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def snapshot(directory: Path) -> dict[str, bytes | str]:
    """Every entry under `directory`: file bytes, or where a link points."""
    return {
        str(p.relative_to(directory)): os.readlink(p) if p.is_symlink() else p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_symlink() or p.is_file()
    }


def write_config(path: Path, url: str, extra: str = "") -> Path:
    path.write_text(f"[store]\nurl = {json.dumps(url)}\n{extra}")
    return path


MISSING_HR = '[hr]\nenabled = true\npath = "/nonexistent/hr.csv"\n'


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which files created without an explicit mode are world-readable."""
    old = os.umask(0o022)
    yield
    os.umask(old)


# --- 12. `annexa demo` never deletes or overwrites what it did not create ----------------------------
@pytest.mark.parametrize("explicit", [True, False], ids=["--dir", "default ./annexa-demo"])
def test_demo_leaves_a_directory_it_did_not_create_untouched(tmp_path, explicit):
    users = tmp_path / "annexa-demo"
    users.mkdir()
    (users / "annexa.db").write_bytes(b"SQLite format 3\x00 the production store, with its NCs")
    (users / "annexa.toml").write_text('[store]\nurl = "sqlite:///annexa.db"\n')
    before = snapshot(users)
    proc = annexa("demo", *(["--dir", str(users)] if explicit else []), cwd=tmp_path)
    assert_one_line_error(proc, "exists and was not created by annexa demo; choose another --dir")
    assert snapshot(users) == before


def test_demo_refuses_a_symlink_in_place_of_its_directory(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    prepare_demo_dir(elsewhere)  # even a demo directory: the link could be swapped after the check
    (elsewhere / "keep.txt").write_text("keep")
    (tmp_path / "link").symlink_to(elsewhere)
    before = snapshot(elsewhere)
    assert_one_line_error(annexa("demo", "--dir", str(tmp_path / "link")), "symbolic link")
    assert snapshot(elsewhere) == before


def test_demo_recreates_its_own_directory_without_following_links_out_of_it(tmp_path):
    demo_dir = tmp_path / "demo"
    prepare_demo_dir(demo_dir)  # a previous demo: its config, key and store
    Store(f"sqlite:///{demo_dir / 'annexa.db'}").close()
    write_demo_config(demo_dir)
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "annexa.db").write_text("not the demo's")
    (demo_dir / "linked-dir").symlink_to(outside)
    (demo_dir / "linked-file").symlink_to(outside / "annexa.db")
    proc = annexa("demo", "--dir", str(demo_dir), "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["run"]["status"] == "complete"
    assert (outside / "annexa.db").read_text() == "not the demo's"
    names = {p.name for p in demo_dir.iterdir()}
    assert {MARKER, "annexa-signing.key", "annexa-signing.pub", "annexa.db", "annexa.toml"} <= names
    assert not {"linked-dir", "linked-file"} & names
    assert {mode(demo_dir / n) for n in ("annexa.db", "annexa.toml", "annexa-signing.key")} == {0o600}
    shown = annexa("nc", "show", "NC-0001", "--json", "--config", str(demo_dir / "annexa.toml"))
    assert shown.returncode == 0, shown.stderr


# --- 13. exit codes say what happened -----------------------------------------------------------------
def test_a_collection_that_got_no_evidence_exits_4_even_when_gated(tmp_path):
    config = write_config(tmp_path / "annexa.toml", f"sqlite:///{tmp_path / 'a.db'}", MISSING_HR)
    proc = annexa("collect", "--json", "--fail-on", "minor", "--config", str(config))
    assert proc.returncode == 4, proc.stderr
    assert json.loads(proc.stdout)["run"]["status"] == "failed"
    assert proc.stderr.strip().splitlines()[-1] == "annexa: run 1 failed: no evidence could be collected"


def test_a_partial_collection_exits_0_or_5_under_strict_which_wins_over_the_gate(tmp_path):
    with GraphServer(GraphData(), token="t") as graph:
        entra = (
            f'[entra]\nenabled = true\ntenant_id = "00000000-0000-0000-0000-000000000001"\n'
            f'access_token_env = "GRAPH_TOKEN"\ngraph_url = "{graph.url}"\n'
        )
        config = write_config(tmp_path / "annexa.toml", f"sqlite:///{tmp_path / 'a.db'}", entra + MISSING_HR)
        codes = {}
        for flags in ((), ("--fail-on", "minor"), ("--strict", "--fail-on", "minor")):
            proc = annexa("collect", "--json", *flags, "--config", str(config), env={"GRAPH_TOKEN": "t"})
            assert json.loads(proc.stdout)["run"]["status"] == "partial"
            codes[flags] = proc.returncode
    assert codes == {(): 0, ("--fail-on", "minor"): 1, ("--strict", "--fail-on", "minor"): 5}
    assert "partial: 1 observation(s) in error (--strict)" in proc.stderr.strip().splitlines()[-1]


def assert_busy(proc) -> None:
    assert proc.returncode == 75, (proc.returncode, proc.stderr)
    last = proc.stderr.strip().splitlines()[-1]
    assert "store busy" in last and "try again" in last, last
    assert not any(word in proc.stderr for word in ("Traceback", "OperationalError", "[SQL"))


@pytest.mark.parametrize("opened_before", [True, False], ids=["open store", "never opened"])
def test_a_locked_sqlite_store_is_busy(tmp_path, opened_before):
    db = tmp_path / "a.db"
    config = write_config(tmp_path / "annexa.toml", f"sqlite:///{db}?timeout=0", MISSING_HR)
    if opened_before:
        assert annexa("nc", "list", "--config", str(config)).returncode == 0
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # held for the whole command: no race with its start
        if not opened_before:
            holder.execute("CREATE TABLE mine (x)")
        assert_busy(annexa("collect", "--config", str(config)))
    finally:
        holder.rollback()
        holder.close()


def test_a_postgresql_lock_timeout_is_busy(tmp_path, pg_url):
    url = f"{pg_url}?options=-c%20lock_timeout%3D100"
    config = write_config(tmp_path / "annexa.toml", url, MISSING_HR)
    assert annexa("nc", "list", "--config", str(config)).returncode == 0
    with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://")) as holder:
        holder.execute("LOCK TABLE run IN ACCESS EXCLUSIVE MODE")  # until the transaction ends
        assert_busy(annexa("collect", "--config", str(config)))
        holder.rollback()


@pytest.mark.parametrize(
    ("error", "busy"),
    [
        (pg.LockNotAvailable(), True),
        (pg.SerializationFailure(), True),
        (pg.DeadlockDetected(), True),
        (pg.UniqueViolation(), False),
        (sqlite3.OperationalError("no such table"), False),
    ],
)
def test_which_driver_errors_mean_busy(error, busy):
    assert is_busy(error) is busy


SECRET_URLS = {
    "userinfo": f"postgresql+psycopg://u:{SECRET}@127.0.0.1:1/db",
    "query password": f"postgresql+psycopg://u@127.0.0.1:1/db?password={SECRET}",
    "query password only": f"postgresql+psycopg:///db?host=127.0.0.1&port=1&user=u&password={SECRET}",
    "percent-encoded": "postgresql+psycopg://u:s3%40cr3t@127.0.0.1:1/db",
    "unbalanced bracket": f"postgresql://u:{SECRET}@[bad",
    "space": f"postgresql+psycopg://u:s3 {SECRET}@127.0.0.1:1/db",
    "port not a number": f"postgresql+psycopg://u:{SECRET}@127.0.0.1:port/db",
    "@ in the password": f"postgresql+psycopg://u:p@ss:{SECRET}@127.0.0.1:1/db",
    "no scheme": f"u:{SECRET}@127.0.0.1/db",
    "driver echoes a value": f"postgresql+psycopg://u:{SECRET}@127.0.0.1:1/db?sslmode={SECRET}",
    "bad driver option": f"postgresql+psycopg://u:{SECRET}@127.0.0.1:1/db?connect_timeout=x",
}


@pytest.mark.parametrize("case", sorted(SECRET_URLS))
def test_a_store_password_never_reaches_the_terminal(tmp_path, case):
    config = write_config(tmp_path / "annexa.toml", SECRET_URLS[case])
    for env in ({}, {"ANNEXA_STORE__URL": SECRET_URLS[case]}):
        proc = annexa("status", "--config", str(config), env=env)
        assert_one_line_error(proc, "[store] url")
        for secret in (SECRET, "s3@cr3t", "s3%40cr3t"):
            assert secret not in proc.stdout + proc.stderr, proc.stderr


def test_files_the_agent_creates_are_private(tmp_path, umask_022):
    assert annexa("init", cwd=tmp_path).returncode == 0
    assert mode(tmp_path / "annexa.toml") == 0o600
    assert mode(tmp_path / "annexa-signing.key") == 0o600
    assert mode(tmp_path / "annexa-signing.pub") == 0o644
    db = tmp_path / "annexa.db"
    assert annexa("nc", "list", cwd=tmp_path).returncode == 0
    assert mode(db) == 0o600
    reader = sqlite3.connect(db)  # SQLite gives the -wal and -shm files the database's mode
    try:
        reader.execute("SELECT count(*) FROM run").fetchall()
        assert {mode(Path(f"{db}{suffix}")) for suffix in ("-wal", "-shm")} == {0o600}
    finally:
        reader.close()


@pytest.mark.parametrize("name", ["annexa.toml", "annexa-signing.key"])
@pytest.mark.parametrize("target_exists", [True, False], ids=["to a file", "dangling"])
@pytest.mark.parametrize("force", [False, True], ids=["", "--force"])
def test_init_never_writes_through_a_symlink(tmp_path, name, target_exists, force):
    work, outside = tmp_path / "work", tmp_path / "outside"
    work.mkdir()
    outside.mkdir()
    target = outside / "victim"
    if target_exists:
        target.write_text("untouched")
    (work / name).symlink_to(target)
    proc = annexa("init", *(["--force"] if force else []), cwd=work)
    assert_one_line_error(proc, f"{name} is a symbolic link")
    assert snapshot(outside) == ({"victim": b"untouched"} if target_exists else {})
    assert sorted(p.name for p in work.iterdir()) == [name]


def test_init_replaces_a_planted_public_key_link_instead_of_following_it(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("untouched")
    (tmp_path / "annexa-signing.pub").symlink_to(victim)
    assert annexa("init", cwd=tmp_path).returncode == 0
    assert victim.read_text() == "untouched"
    pub = tmp_path / "annexa-signing.pub"
    assert not pub.is_symlink() and pub.read_text().startswith("-----BEGIN PUBLIC KEY-----")


# --- inputs too large for a date, an id or a duration, outputs that are directories: usage errors --------
OUT_OF_RANGE = {  # {tmp}: the test's directory, holding annexa.toml and the directory a-dir.zip
    "--to the last date": (["export", "--to", "9999-12-31", "--out", "{tmp}/b.zip"], "--to"),
    "nc show beyond 64 bits": (["nc", "show", "99999999999999999999999"], "no nonconformity"),
    "nc accept beyond 64 bits": (["nc", "accept", "NC-99999999999999999999999"], "no nonconformity"),
    "nc id of digits int() cannot read": (["nc", "show", "NC-\u00b2"], "not a nonconformity id"),
    "--valid-for a billion days": (
        ["attest", "A.5.1", "--file", "{tmp}/annexa.toml", "--valid-for", "1000000000"],
        "--valid-for",
    ),
    "export --out new.zip/": (["export", "--out", "{tmp}/new.zip/"], "is a directory"),
    "export --out a directory": (["export", "--out", "{tmp}/a-dir.zip"], "is a directory"),
    "soa xlsx --out a directory": (["soa", "--format", "xlsx", "--out", "{tmp}"], "is a directory"),
    "soa --out in a missing directory": (["soa", "--out", "{tmp}/missing/soa.csv"], "cannot write"),
}


@pytest.mark.parametrize("case", sorted(OUT_OF_RANGE))
def test_out_of_range_inputs_are_usage_errors(tmp_path, case):
    config = write_config(tmp_path / "annexa.toml", f"sqlite:///{tmp_path / 'a.db'}")
    (tmp_path / "a-dir.zip").mkdir()
    args, needle = OUT_OF_RANGE[case]
    proc = annexa(*(a.replace("{tmp}", str(tmp_path)) for a in args), "--config", str(config))
    assert_one_line_error(proc, needle)
    assert not (tmp_path / "new.zip").exists()


def test_init_force_onto_a_directory_is_a_usage_error(tmp_path):
    assert_one_line_error(
        annexa("init", "--force", "--path", str(tmp_path)), "cannot write", "Is a directory"
    )
