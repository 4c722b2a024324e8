"""`annexa attest --file` reads regular files only, and never more than the cap."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from agent.errors import UsageError
from agent.files import read_bounded
from tests.cli import annexa


def _directory(tmp_path: Path) -> Path:
    (tmp_path / "dir").mkdir()
    return tmp_path / "dir"


def _fifo(tmp_path: Path) -> Path:
    os.mkfifo(tmp_path / "fifo")  # nobody ever writes to it: opening it to read would wait forever
    return tmp_path / "fifo"


def _socket(tmp_path: Path) -> Path:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock"))
    return tmp_path / "sock"


def _endless(tmp_path: Path) -> Path:
    (tmp_path / "zero").symlink_to("/dev/zero")  # st_size 0, and reading never ends
    return tmp_path / "zero"


@pytest.mark.slow
@pytest.mark.parametrize(
    "make", [_directory, _fifo, _socket, _endless], ids=["dir", "fifo", "socket", "device"]
)
def test_special_files_are_refused_with_one_line(tmp_path, make):
    config = tmp_path / "annexa.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n')
    proc = annexa("attest", "A.5.1", "--file", str(make(tmp_path)), "--config", str(config))
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and "not a regular file" in proc.stderr, proc.stderr


def test_reading_stops_at_the_cap_whatever_the_size_says(tmp_path):
    exact = tmp_path / "exact"
    exact.write_bytes(b"x" * 16)
    assert read_bounded(exact, 16, "--file") == b"x" * 16
    exact.write_bytes(b"x" * 17)
    with pytest.raises(UsageError, match="larger than 16 bytes"):
        read_bounded(exact, 16, "--file")
    status = Path("/proc/self/status")  # a regular file whose st_size is 0
    assert status.stat().st_size == 0 and len(read_bounded(status, 1 << 20, "--file")) > 16
    with pytest.raises(UsageError, match="larger than 16 bytes"):
        read_bounded(status, 16, "--file")
