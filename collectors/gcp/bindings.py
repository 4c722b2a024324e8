"""IAM bindings in one shape, whichever API or client they came from.

`{"role", "members" (sorted), "condition": {"title", "expression"} | None}`, sorted by role and
condition, so an unchanged policy hashes the same run after run. A binding without a role or
members is malformed: the whole policy is rejected rather than judged in part.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from google.iam.v1 import policy_pb2

from agent.errors import InputDataError


def normalize(bindings: Iterable[Mapping[str, Any]], where: str) -> list[dict[str, Any]]:
    out = []
    for b in bindings:
        role, members = b.get("role"), b.get("members")
        if not isinstance(role, str) or not role:
            raise InputDataError(f"IAM policy of {where}: a binding has no role")
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise InputDataError(f"IAM policy of {where}: binding {role} has no list of members")
        cond = b.get("condition") or None
        condition = (
            {"title": str(cond.get("title", "")), "expression": str(cond.get("expression", ""))}
            if cond
            else None
        )
        out.append({"role": role, "members": sorted(set(members)), "condition": condition})
    return sorted(out, key=lambda b: (b["role"], b["condition"] is not None, str(b["condition"])))


def from_proto(policy: policy_pb2.Policy, where: str) -> list[dict[str, Any]]:
    """Bindings of a Resource Manager `Policy` message."""
    return normalize(
        (
            {
                "role": b.role,
                "members": list(b.members),
                "condition": {"title": b.condition.title, "expression": b.condition.expression}
                if b.HasField("condition")
                else None,
            }
            for b in policy.bindings
        ),
        where,
    )
