"""Files only their owner can read, created without ever writing through a symbolic link.

Store databases, the signing key, the config `annexa init` writes and evidence bundles hold
what an attacker on the same host wants: they are created 0600 whatever the umask, and an
existing path (a symlink planted where the file will go, even a dangling one) is refused
rather than followed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO

PRIVATE = 0o600
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def create_private(path: Path, mode: int = PRIVATE) -> BinaryIO:
    """Open a new file for writing with `mode`; FileExistsError if anything, a symlink too, is there."""
    fd = os.open(path, _CREATE, mode)
    os.fchmod(fd, mode)  # the umask may have removed bits `mode` asks for
    return os.fdopen(fd, "wb")


def replace_file(path: Path, data: bytes, mode: int = PRIVATE) -> None:
    """Write `data` to a new file beside `path` and rename it over `path`: a symlink at `path`
    is replaced, never written through, and readers never see half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
