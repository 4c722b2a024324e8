"""Canonical JSON and content hashes.

Equal data must hash equally whatever the key order, the unicode normalisation of the
producer or the way a number was written, so that unchanged evidence is stored once and a
bundle's hashes can be recomputed by anyone.
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Any


class NotCanonicalisable(ValueError):
    """Raised for values JSON cannot represent faithfully (NaN, infinities, arbitrary objects)."""


def _normalise(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        if isinstance(value, float) and not math.isfinite(value):
            raise NotCanonicalisable(f"non-finite number {value!r}")
        if value == int(value) and -(2**53) < value < 2**53:
            return int(value)
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonicalisable(f"non-string key {key!r}")
            out[unicodedata.normalize("NFC", key)] = _normalise(item)
        return out
    if isinstance(value, list | tuple):
        return [_normalise(item) for item in value]
    raise NotCanonicalisable(f"cannot canonicalise {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """Sorted keys, no insignificant white space, NFC strings, integral floats as integers."""
    return json.dumps(
        _normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def sha256_hex(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def content_hash(value: Any) -> str:
    return sha256_hex(canonical_json(value))
