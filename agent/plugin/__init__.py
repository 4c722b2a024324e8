"""What a plugin imports: the decorators, the values collectors yield and checks return, the evidence
view checks judge, the asset a record is to the inventory, the period view populations derive their
members from, the errors a collector raises, and the base of a system's settings section with the
secret resolver it uses.

Each name is imported on first use: the CLI reads `Severity` from `agent.plugin.model` at start-up,
and that must not cost it pydantic.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.config.secrets import resolve_secret
    from agent.config.sections import SystemSettings
    from agent.errors import CollectorError, InputDataError
    from agent.plugin.declare import (
        asset_reader,
        check,
        collector,
        permissions_document,
        population,
        scope_kind,
    )
    from agent.plugin.evidence import Evidence
    from agent.plugin.model import Asset, Record, Result, Severity, Status
    from agent.plugin.period_view import Listing, Member, Period

_WHERE = {
    "Asset": "agent.plugin.model",
    "CollectorError": "agent.errors",
    "Evidence": "agent.plugin.evidence",
    "InputDataError": "agent.errors",
    "Listing": "agent.plugin.period_view",
    "Member": "agent.plugin.period_view",
    "Period": "agent.plugin.period_view",
    "Record": "agent.plugin.model",
    "Result": "agent.plugin.model",
    "Severity": "agent.plugin.model",
    "Status": "agent.plugin.model",
    "SystemSettings": "agent.config.sections",
    "asset_reader": "agent.plugin.declare",
    "check": "agent.plugin.declare",
    "collector": "agent.plugin.declare",
    "permissions_document": "agent.plugin.declare",
    "population": "agent.plugin.declare",
    "resolve_secret": "agent.config.secrets",
    "scope_kind": "agent.plugin.declare",
}
__all__ = [
    "Asset",
    "CollectorError",
    "Evidence",
    "InputDataError",
    "Listing",
    "Member",
    "Period",
    "Record",
    "Result",
    "Severity",
    "Status",
    "SystemSettings",
    "asset_reader",
    "check",
    "collector",
    "permissions_document",
    "population",
    "resolve_secret",
    "scope_kind",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_WHERE[name]), name)
