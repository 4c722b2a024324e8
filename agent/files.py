"""Reading a file a user names, in bounded memory and time, whatever the path turns out to be."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from agent.errors import UsageError

_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
}


def _size(n: int) -> str:
    return f"{n // 2**20} MiB" if n >= 2**20 else f"{n} bytes"


def read_bounded(path: Path, cap: int, what: str) -> bytes:
    """The content of the regular file at `path`, refused (UsageError, naming `what`) past `cap` bytes.

    A symlink to a regular file is followed: the user named it. The opened descriptor is checked, not
    the path, so nothing can be swapped in between; O_NONBLOCK keeps the open of a FIFO without a
    writer from hanging; and `st_size` is not trusted (/proc files say 0, files grow): reading stops
    at `cap + 1` bytes.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                kind = _KINDS.get(stat.S_IFMT(mode), "a special file")
                raise UsageError(f"{what} {path} is {kind}, not a regular file")
            os.set_blocking(fd, True)
            with open(fd, "rb", closefd=False) as handle:
                content = handle.read(cap + 1)
        finally:
            os.close(fd)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # opening a socket, or a device with no driver behind it
            raise UsageError(f"{what} {path} is not a regular file") from None
        raise UsageError(f"{what} {path}: {exc.strerror}") from None
    if len(content) > cap:
        raise UsageError(f"{what} {path}: larger than {_size(cap)}")
    return content
