"""Control status: what the 93 Annex A controls look like from the latest evaluations."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from agent.audit.asof import active_at
from agent.audit.attestations import attestation_document, attestations, current
from agent.audit.catalog import annex_a
from agent.audit.nonconformities import ACTIVE
from agent.config.settings import Settings
from agent.plugin.registry import Registry
from agent.run.evaluate import active_checks
from agent.store import Store
from agent.store.results import latest_check_runs, outcome_of_statuses
from agent.store.schema import Nonconformity
from agent.store.types import utcnow


@dataclass(frozen=True)
class ControlStatus:
    id: str
    title: str
    theme: str
    applicable: bool
    justification: str
    status: str
    checks: dict[str, str]
    open_nonconformities: list[str]
    attestation: dict[str, Any] | None = None

    def document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "theme": self.theme,
            "applicable": self.applicable,
            "justification": self.justification,
            "status": self.status,
            "checks": sorted(self.checks),
            "check_outcomes": self.checks,
            "open_nonconformities": self.open_nonconformities,
            "attestation": self.attestation,
        }


def _check_outcome(outcomes: list[str]) -> str:
    """A check's outcomes across scopes roll up the way results roll up into an outcome."""
    if not outcomes:
        return "error"  # configured but never evaluated: no evidence is not a pass
    return outcome_of_statuses(outcomes).value


def _control_status(check_outcomes: dict[str, str]) -> str:
    values = set(check_outcomes.values())
    if not values:
        return "manual"
    if "fail" in values:
        return "failing"
    if "error" in values:
        return "error"
    if "pass" in values:
        return "passing"
    return "manual"


def _open_by_control(store: Store, at: datetime | None) -> dict[str, list[str]]:
    """Control -> refs of its NCs not closed or rejected (as the register stood at `at`, if given)."""
    if at is not None:
        ncs = [(d["id"], d["controls"]) for d in active_at(store, at)]  # in NC id order
    else:
        with store.read() as s:
            rows = s.execute(
                select(Nonconformity)
                .where(col(Nonconformity.state).in_([st.value for st in ACTIVE]))
                .order_by(col(Nonconformity.id))
            ).scalars()
            ncs = [(nc.ref, list(nc.controls)) for nc in rows]
    nc_by_control: dict[str, list[str]] = defaultdict(list)
    for ref, controls in ncs:
        for control_id in controls:
            nc_by_control[control_id].append(ref)
    return nc_by_control


def control_statuses(
    store: Store, settings: Settings, registry: Registry, at: datetime | None = None
) -> list[ControlStatus]:
    """Every control's status from the latest evaluations, or from those proven by `at`."""
    checks = active_checks(registry, settings)
    outcomes: dict[str, list[str]] = defaultdict(list)
    for cr in latest_check_runs(store, at=at):
        outcomes[cr.check_id].append(cr.outcome)
    nc_by_control = _open_by_control(store, at)
    excluded = settings.controls.excluded
    now = at or utcnow()
    vouched = current(attestations(store, at), now)
    out = []
    for control in annex_a().values():
        mapped = {c.id: _check_outcome(outcomes.get(c.id, [])) for c in checks if control.id in c.controls}
        applicable = control.id not in excluded
        out.append(
            ControlStatus(
                id=control.id,
                title=control.title,
                theme=control.theme,
                applicable=applicable,
                justification=excluded.get(control.id, ""),
                status=_control_status(mapped) if applicable else "excluded",
                checks=mapped,
                open_nonconformities=nc_by_control.get(control.id, []),
                attestation=attestation_document(vouched[control.id]) if control.id in vouched else None,
            )
        )
    return out
