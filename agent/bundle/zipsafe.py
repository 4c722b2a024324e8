"""Reading a bundle an attacker may have crafted: every entry vetted before anything is read, every
read bounded and streamed.

Refused, each by name: duplicate entry names, a name in the central directory that differs from
its local header, symlinks, directories, absolute or `..` paths, encrypted entries, and any
compression but stored or deflate. Reads never exceed the size the (signed) manifest declares.
"""

from __future__ import annotations

import hashlib
import stat
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_MAGIC = b"PK\x03\x04"
_READ = 1 << 20
MAX_ENTRIES = 1_000_000


class BundleError(Exception):
    """The archive itself is unsafe or malformed; the message names the entry."""


def _name_problem(name: str) -> str | None:
    if not name or "\x00" in name or "\\" in name:
        return "has a forbidden character"
    if name.endswith("/"):
        return "is a directory entry"
    path = PurePosixPath(name)
    if path.is_absolute() or (len(name) > 1 and name[1] == ":"):
        return "is an absolute path"
    if any(part in ("..", ".", "") for part in name.split("/")):
        return "has a '..' or empty path segment"
    return None


def _local_name(fh: IO[bytes], info: zipfile.ZipInfo) -> bytes:
    fh.seek(info.header_offset)
    header = fh.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != _LOCAL_MAGIC:
        raise BundleError(f"entry {info.filename!r} has no local header where the directory says")
    name_len = _LOCAL_HEADER.unpack(header)[9]
    return fh.read(name_len)


def vet(zf: zipfile.ZipFile, fh: IO[bytes]) -> dict[str, zipfile.ZipInfo]:
    """Every entry checked before any is read; returns them by name."""
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise BundleError(f"the archive has {len(infos)} entries, more than {MAX_ENTRIES}")
    seen: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        if name in seen:
            raise BundleError(f"entry {name!r} appears twice")
        if (why := _name_problem(name)) is not None:
            raise BundleError(f"entry {name!r} {why}")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise BundleError(f"entry {name!r} is a symbolic link")
        if info.flag_bits & 0x1:
            raise BundleError(f"entry {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BundleError(f"entry {name!r} uses an unsupported compression ({info.compress_type})")
        encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
        try:
            local = _local_name(fh, info).decode(encoding)
        except UnicodeDecodeError:
            local = None
        if local != info.orig_filename:
            raise BundleError(f"entry {name!r} is named {local!r} in its local header")
        seen[name] = info
    return seen


@dataclass
class Hashed:
    """What streaming one entry found: its SHA-256 and size, or why it could not be read."""

    sha256: str = ""
    size: int = 0
    error: str = ""


class BoundedReader:
    """Reads one entry, hashing every byte, and refuses to go past `limit` bytes."""

    def __init__(self, zf: zipfile.ZipFile, name: str, limit: int) -> None:
        self.name, self.limit = name, limit
        self._raw = zf.open(name)
        self._sha = hashlib.sha256()
        self.size = 0

    def chunks(self) -> Iterator[bytes]:
        while chunk := self._raw.read(min(_READ, self.limit + 1 - self.size)):
            self.size += len(chunk)
            if self.size > self.limit:
                raise BundleError(f"{self.name} is larger than the {self.limit} bytes the manifest declares")
            self._sha.update(chunk)
            yield chunk

    def lines(self) -> Iterator[bytes]:
        """Whole lines (each with its newline), however the chunks fall."""
        rest = b""
        for chunk in self.chunks():
            parts = (rest + chunk).split(b"\n")
            rest = parts.pop()
            for part in parts:
                yield part + b"\n"
        if rest:
            yield rest

    def read_all(self) -> bytes:
        return b"".join(self.chunks())

    def finish(self) -> Hashed:
        for _ in self.chunks():  # whatever the consumer left unread still counts
            pass
        self._raw.close()
        return Hashed(self._sha.hexdigest(), self.size)

    def close(self) -> None:
        self._raw.close()


def read_bounded(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """A small entry in full (manifest, signature, key), refused past `limit` bytes."""
    reader = BoundedReader(zf, name, limit)
    try:
        return reader.read_all()
    finally:
        reader.close()
