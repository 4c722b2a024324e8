"""The values that flow between collectors, the store, checks and the CLI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    NOT_APPLICABLE = "not_applicable"


class Severity(StrEnum):
    """ISO 27001 audit grading: a major nonconformity outranks a minor one, an OFI is advice."""

    MAJOR = "major"
    MINOR = "minor"
    OFI = "ofi"

    @property
    def rank(self) -> int:
        return {"major": 3, "minor": 2, "ofi": 1}[self.value]


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETE = "complete"
    PARTIAL = "partial"
    FAILED = "failed"
    ABORTED = "aborted"


@dataclass(frozen=True, slots=True)
class Record:
    """One resource as a collector saw it. The store fills source, scope and hash on the way back."""

    resource_id: str
    data: dict[str, Any]
    source: str = ""
    scope: str = ""
    hash: str = ""


@dataclass(frozen=True, slots=True)
class Asset:
    """What a collected resource is, for the asset inventory (A.5.9): a type a person recognises
    (`AWS::EC2::Instance`), the name people call it by, and its tags (owner and classification
    are read from them). An asset reader (`@asset_reader`) makes one from one record."""

    type: str
    name: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Result:
    """A check's verdict on one resource, with the hashes of the evidence it was judged on."""

    resource_id: str
    status: Status
    reason: str
    evidence: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, *records: Record, passed: bool, reason: str, resource_id: str | None = None) -> Result:
        """A pass or fail about the first record (or `resource_id`), citing every record given."""
        return cls(
            resource_id=resource_id or records[0].resource_id,
            status=Status.PASS if passed else Status.FAIL,
            reason=reason,
            evidence=tuple(sorted({r.hash for r in records if r.hash})),
        )

    @classmethod
    def not_applicable(cls, record: Record, reason: str) -> Result:
        return cls(record.resource_id, Status.NOT_APPLICABLE, reason, (record.hash,) if record.hash else ())

    @classmethod
    def error(cls, resource_id: str, reason: str) -> Result:
        return cls(resource_id, Status.ERROR, reason)
