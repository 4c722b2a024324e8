"""The shape of each JSON document a bundle's verifier interprets: every value it reads, by type.

A document is checked against its shape (strictly: nothing is coerced) before anything in it is
interpreted, so a malformed one is named with the path to the first bad value instead of failing
somewhere in the chain checks. A value that is only hashed may be any JSON; one that is used as a
key, sorted, formatted as a number or looked into has a type. Keys the verifier does not read are
allowed.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from agent.bundle.layout import ATTESTATIONS, CHAIN, NCS, RUNS


class _Shape(BaseModel):
    model_config = ConfigDict(strict=True)


class _Identity(_Shape):
    uid: Any


class _Entry(_Shape):
    id: int
    identity: _Identity
    prev: Any
    root: str
    seal: dict[str, Any] | None
    signature: str | None


class _Lists(_Shape):
    ncs: list[tuple[int, int, str]]
    transitions: list[str]
    attestations: list[str]


class _Chain(_Shape):
    spine: list[_Entry]
    registers: dict[Annotated[str, Field(pattern=r"^[0-9]+$")], _Lists]


class _Observation(_Shape):
    source: str
    scope: Any
    status: Any
    error: Any
    tree_hash: str | None
    record_count: Any
    started_at: Any
    collected_at: Any
    agent_version: Any
    hash: str


class _CheckRun(_Shape):
    check_id: str
    scope: Any
    evaluated_at: Any
    outcome: Any
    passed: Any
    failed: Any
    errored: Any
    not_applicable: Any
    result_set: str
    hash: str


class _VersionFields(_Shape):
    nc_id: int
    version: int
    hash: str


class _Version(_VersionFields):
    document: dict[str, Any]


class _Transition(_Shape):
    id: Any
    nc_id: Any
    at: Any
    actor: Any
    from_state: Any
    to_state: Any
    reason: Any
    hash: str


class _Attestation(_Shape):
    id: Any
    control_id: Any
    attachment: Any
    filename: Any
    note: Any
    actor: Any
    at: Any
    expires_at: Any
    hash: str


class _Run(_Entry):
    observations: list[_Observation]
    check_runs: list[_CheckRun]
    nc_versions: list[_Version]
    transitions: list[_Transition]
    attestations: list[_Attestation]


class _Check(_Shape):
    id: str
    needs: list[str]


class _NcDocument(_Shape):
    """What the register entry is derived from (agent.audit.nonconformities.register_document)."""

    id: int
    check_id: Any
    title: Any
    controls: Any
    severity: Any
    suggested_severity: Any
    state: Any
    scope: Any
    failing_resources: Any
    first_seen: Any
    last_seen: Any
    last_run_id: Any
    ready_for_verification: Any
    evidence_hashes: Any


class _SealedVersion(_VersionFields):
    document: _NcDocument
    run_id: int


class _Step(_Transition):
    run_id: int


class _Nc(_Shape):
    id: Any
    history: list[_Step]
    sealed: _SealedVersion


class _AttestationRecord(_Attestation):
    run_id: int


class _AttestationDoc(_Shape):
    record: _AttestationRecord
    path: str
    sha256: Any


SHAPES: dict[str, TypeAdapter[Any]] = {
    CHAIN: TypeAdapter(_Chain),
    RUNS: TypeAdapter(list[_Run]),
    "checks.json": TypeAdapter(list[_Check]),
    NCS: TypeAdapter(list[_Nc]),
    ATTESTATIONS: TypeAdapter(list[_AttestationDoc]),
}


def shape_problem(name: str, body: bytes) -> str | None:
    """Why the document `name` is not of its shape (the path to its first bad value), or None."""
    try:
        SHAPES[name].validate_json(body, strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        return f"{name}: {'.'.join(map(str, first['loc'])) or 'document'}: {first['msg']}"
    return None
