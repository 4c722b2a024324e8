"""Streaming the two large kinds of bundle file: evidence listings and result sets, line by line.

Each is checked in one pass through the bounded reader that also hashes the file for the manifest.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from agent.canonical import canonical_json

# The exporter's layout with an id of printable ASCII other than `"` and `\`: such an id needs no
# unescaping or normalising, so its bytes are its canonical JSON, and the record is sliced out of
# the line without parsing it. `data` must then hash to `hash`, so it is the stored canonical JSON.
_EXACT = re.compile(
    rb'\{"resource_id":"([\x20\x21\x23-\x5b\x5d-\x7e]*)","hash":"([0-9a-f]{64})","data":(.*)\}', re.DOTALL
)
_DIGEST = re.compile(r"[0-9a-f]{64}")
MAX_PROBLEMS = 20  # named per file; the rest are counted


class LineError(ValueError):
    """A line that is not a record of the bundle's format."""


def _record(line: bytes) -> tuple[bytes, str, bytes, bytes]:
    """(the id in UTF-8, which orders as its code points do; the declared hash; the bytes that hash
    covers; the canonical JSON of [id, hash], which the listing's tree hash covers)."""
    if exact := _EXACT.fullmatch(line):
        rid, digest, data = exact.groups()
        return rid, digest.decode(), data, b'["' + rid + b'","' + digest + b'"]'
    doc = json.loads(line.decode())
    if not isinstance(doc, dict) or not isinstance(doc.get("resource_id"), str):
        raise LineError("not an object with a resource_id")
    text, digest = doc["resource_id"], doc.get("hash")
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest) or "data" not in doc:
        raise LineError("no SHA-256 hex hash, or no data")
    return (
        text.encode(),
        digest,
        canonical_json(doc["data"]).encode(),
        canonical_json([text, digest]).encode(),
    )


@dataclass
class Listing:
    """What an evidence file holds: its tree hash, record count, and the first problems found."""

    tree: str = ""
    count: int = 0
    problems: list[str] = field(default_factory=list)


def check_listing(path: str, lines: Iterable[bytes]) -> Listing:
    """Every record against its hash, and the listing's tree hash: that of `TreeHasher`
    (agent/store/hashing.py), the JSON list of [id, hash] pairs in strictly increasing id order."""
    tree = hashlib.sha256(b"[")
    out = Listing()
    last: bytes | None = None
    mismatched = 0
    for n, line in enumerate(lines, start=1):
        try:
            rid, digest, data, pair = _record(line)
            if last is not None and rid <= last:
                raise LineError(f"resource ids out of order or repeated at {rid.decode()!r}")
        except (ValueError, RecursionError) as exc:  # JSON, UTF-8, nesting, or the format
            out.problems.append(f"{path}:{n}: unreadable record ({exc})")
            break
        if hashlib.sha256(data).hexdigest() != digest:
            mismatched += 1
            if mismatched <= MAX_PROBLEMS:
                out.problems.append(f"{path}:{n}: record {rid.decode()!r} does not match its hash")
        tree.update(pair if last is None else b"," + pair)
        last = rid
        out.count += 1
    if mismatched > MAX_PROBLEMS:
        out.problems.append(f"{path}: {mismatched - MAX_PROBLEMS} more records do not match their hash")
    tree.update(b"]")
    out.tree = tree.hexdigest()
    return out


@dataclass
class ResultSet:
    hash: str = ""
    statuses: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


_STATUSES = frozenset({"pass", "fail", "error", "not_applicable"})


def check_results(path: str, lines: Iterable[bytes]) -> ResultSet:
    """Rows in canonical JSON, one a line; the set's hash is that of the JSON list of them."""
    sha = hashlib.sha256(b"[")
    out = ResultSet()
    for n, body in enumerate(lines, start=1):
        try:
            row = json.loads(body)
            status = row["status"]
            if not isinstance(row["resource_id"], str) or status not in _STATUSES:
                raise LineError(f"status {status!r} or resource id is not valid")
            if canonical_json(row).encode() != body:
                raise LineError("not canonical JSON")
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            out.problems.append(f"{path}:{n}: unreadable result ({exc})")
            break
        sha.update((b"," if n > 1 else b"") + body)
        out.statuses[status] += 1
    sha.update(b"]")
    out.hash = sha.hexdigest()
    return out
