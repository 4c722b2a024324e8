"""Reading a bundle an attacker may have crafted: every entry vetted before anything is read, every
read bounded and streamed.

Refused, each by name: a central directory too large to parse within bounded memory, duplicate
entry names, a name in the central directory that differs from its local header, symlinks,
directories, absolute or `..` paths, encrypted entries, and any compression but stored or deflate.
Reads never exceed the size the (signed) manifest declares.
"""

from __future__ import annotations

import hashlib
import stat
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO, Any

_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_MAGIC = b"PK\x03\x04"
_READ = 1 << 20
# zipfile parses the whole central directory, at ~450 bytes of memory an entry, and an entry takes
# as little as 47 bytes of it. 16 MB holds over 100,000 entries of a real bundle (~130 bytes each);
# at worst, 325,000 tiny ones, `annexa verify` peaks at 230 MB before refusing them.
MAX_DIRECTORY = 16 << 20
MAX_LINE = 16 << 20  # one evidence record or result, held (and maybe parsed) whole


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
    header = b""
    if info.header_offset >= 0:  # negative when the end record misplaces the directory
        fh.seek(info.header_offset)
        header = fh.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != _LOCAL_MAGIC:
        raise BundleError(f"entry {info.filename!r} has no local header where the directory says")
    name_len = _LOCAL_HEADER.unpack(header)[9]
    return fh.read(name_len)


def open_archive(fh: IO[bytes]) -> zipfile.ZipFile:
    """The archive, once the size of its central directory is known to be bounded: zipfile parses
    all of it up front, whatever its entry count claims."""
    # What ZipFile itself reads first, through zipfile's private helpers: typeshed declares neither.
    end: list[Any] | None = zipfile._EndRecData(fh)  # type: ignore[attr-defined]  # private zipfile API
    size: int = 0 if end is None else end[zipfile._ECD_SIZE]  # type: ignore[attr-defined]  # private zipfile API
    if size > MAX_DIRECTORY:
        raise BundleError(f"the archive's central directory is {size} bytes, more than {MAX_DIRECTORY}")
    try:
        return zipfile.ZipFile(fh)
    except UnicodeDecodeError as exc:
        raise BundleError(f"entry {exc.object!r} has a name that is not UTF-8") from None


def vet(zf: zipfile.ZipFile, fh: IO[bytes]) -> dict[str, zipfile.ZipInfo]:
    """Every entry checked before any is read; returns them by name."""
    seen: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
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
    """What streaming one entry found: its SHA-256 and size."""

    sha256: str
    size: int


class BoundedReader:
    """Reads one entry, hashing every byte, and refuses to go past `limit` bytes."""

    def __init__(
        self, zf: zipfile.ZipFile, name: str, limit: int, why: str = "the manifest declares"
    ) -> None:
        self.name, self.limit, self._why = name, limit, why
        self._raw = zf.open(name)
        self._sha = hashlib.sha256()
        self.size = 0

    def chunks(self) -> Iterator[bytes]:
        while chunk := self._raw.read(min(_READ, self.limit + 1 - self.size)):
            self.size += len(chunk)
            if self.size > self.limit:
                raise BundleError(f"{self.name} is larger than the {self.limit} bytes {self._why}")
            self._sha.update(chunk)
            yield chunk

    def lines(self) -> Iterator[bytes]:
        """Each line without its newline, however the chunks fall; one longer than MAX_LINE is refused."""
        pending: list[bytes] = []  # the start of a line that goes on in the next chunk
        held = 0
        for chunk in self.chunks():
            first, *rest = chunk.split(b"\n")
            pending.append(first)
            held += len(first)
            if held > MAX_LINE:
                raise BundleError(f"{self.name} has a line longer than {MAX_LINE} bytes")
            if rest:
                yield b"".join(pending)
                *whole, start = rest
                yield from whole
                pending, held = [start], len(start)
        if held:
            yield b"".join(pending)

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
    reader = BoundedReader(zf, name, limit, why="this verifier reads of it")
    try:
        return reader.read_all()
    finally:
        reader.close()
