"""Splitting targets between agents that share one store: `--shard K/N`.

A target is an account, organisation, tenant or HR system: the first two parts of an evidence
scope (`aws:123456789012` for `aws:123456789012:eu-west-1`, see agent/plugin/scopes.py). Each goes to one
shard by a stable hash of that key, so every agent agrees without talking to the others and a
target keeps its shard when others come and go.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from agent.errors import UsageError
from agent.plugin.scopes import is_bare, target_key

_SHARD_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
MAX_SHARDS = 1024


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based, as written on the command line
    total: int

    @classmethod
    def parse(cls, text: str | None) -> Shard:
        if text is None:
            return ALL
        m = _SHARD_RE.match(text)
        if not m:
            raise UsageError(f"--shard {text!r}: expected K/N, e.g. 2/3")
        index, total = int(m.group(1)), int(m.group(2))
        if not 1 <= total <= MAX_SHARDS:
            raise UsageError(f"--shard {text!r}: N must be between 1 and {MAX_SHARDS}")
        if not 1 <= index <= total:
            raise UsageError(f"--shard {text!r}: K must be between 1 and {total}")
        return cls(index, total)

    @property
    def label(self) -> str:
        return f"{self.index}/{self.total}"

    def owns(self, scope: str) -> bool:
        """Whether this agent collects and judges `scope`. Bare system scopes belong to every shard,
        so a shard that could not resolve its targets still reports the failure."""
        if self.total == 1 or is_bare(scope):
            return True
        digest = hashlib.sha256(target_key(scope).encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.total == self.index - 1


ALL = Shard(1, 1)
