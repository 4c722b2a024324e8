"""What `annexa verify` found: each problem named, and what was (and was not) proven."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked_files: int = 0
    runs: int = 0
    records: int = 0
    fingerprint: str = ""
    head: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def document(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": self.problems,
            "notes": self.notes,
            "files": self.checked_files,
            "runs": self.runs,
            "records": self.records,
            "fingerprint": self.fingerprint,
            "head": self.head,
        }
