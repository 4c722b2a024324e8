"""Streaming the two large kinds of bundle file: evidence listings and result sets, line by line.

Each is checked in one pass through the bounded reader that also hashes the file for the manifest.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from json.decoder import scanstring

from agent.canonical import canonical_json
from agent.store.hashing import TreeHasher

_RID = '{"resource_id":'
_HASH = ',"hash":"'
_DATA = '","data":'
_HEX = frozenset("0123456789abcdef")


class LineError(ValueError):
    """A line that is not a record of the bundle's format."""


def _record(text: str) -> tuple[str, str, bytes]:
    """(resource id, declared hash, the bytes that hash covers): the exporter's exact layout fast,
    any other valid JSON line through the general parser (then the data is re-canonicalised)."""
    if text.startswith(_RID + '"') and text.endswith("}"):
        rid, end = scanstring(text, len(_RID) + 1)
        digest = text[end + len(_HASH) : end + len(_HASH) + 64]
        if text.startswith(_HASH, end) and text.startswith(_DATA, end + len(_HASH) + 64):
            return rid, digest, text[end + len(_HASH) + 64 + len(_DATA) : -1].encode()
    line = json.loads(text)
    if not isinstance(line, dict) or not isinstance(line.get("resource_id"), str):
        raise LineError("not an object with a resource_id")
    if not isinstance(line.get("hash"), str) or "data" not in line:
        raise LineError("no hash or data")
    return line["resource_id"], line["hash"], canonical_json(line["data"]).encode()


@dataclass
class Listing:
    """What an evidence file holds: its tree hash, record count, and the first problems found."""

    tree: str = ""
    count: int = 0
    problems: list[str] = field(default_factory=list)


def check_listing(path: str, lines: Iterator[bytes]) -> Listing:
    hasher = TreeHasher()
    out = Listing()
    for n, raw in enumerate(lines, start=1):
        try:
            rid, digest, data = _record(raw.decode("utf-8").rstrip("\n"))
            if len(digest) != 64 or not _HEX.issuperset(digest):
                raise LineError("hash is not a SHA-256 hex digest")
            if hashlib.sha256(data).hexdigest() != digest:
                out.problems.append(f"{path}:{n}: record {rid!r} does not match its hash")
            hasher.add(rid, digest)
        except (ValueError, UnicodeDecodeError) as exc:
            out.problems.append(f"{path}:{n}: unreadable record ({exc})")
            break
    out.tree, out.count = hasher.hexdigest(), hasher.count
    return out


@dataclass
class ResultSet:
    hash: str = ""
    statuses: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


_STATUSES = frozenset({"pass", "fail", "error", "not_applicable"})


def check_results(path: str, lines: Iterator[bytes]) -> ResultSet:
    """Rows in canonical JSON, one a line; the set's hash is that of the JSON list of them."""
    sha = hashlib.sha256(b"[")
    out = ResultSet()
    for n, raw in enumerate(lines, start=1):
        body = raw.rstrip(b"\n")
        try:
            row = json.loads(body)
            status = row["status"]
            if not isinstance(row["resource_id"], str) or status not in _STATUSES:
                raise LineError(f"status {status!r} or resource id is not valid")
            if canonical_json(row).encode() != body:
                raise LineError("not canonical JSON")
        except (ValueError, KeyError, TypeError) as exc:
            out.problems.append(f"{path}:{n}: unreadable result ({exc})")
            break
        sha.update((b"," if n > 1 else b"") + body)
        out.statuses[status] += 1
    sha.update(b"]")
    out.hash = sha.hexdigest()
    return out
