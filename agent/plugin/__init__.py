"""What a plugin imports: the decorators, the values collectors yield and checks return, the evidence
view checks judge, the errors a collector raises, and the base of a system's settings section with the
secret resolver it uses."""

from __future__ import annotations

from agent.config.secrets import resolve_secret
from agent.config.sections import SystemSettings
from agent.errors import CollectorError, InputDataError
from agent.plugin.declare import check, collector, permissions_document, scope_kind
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result, Severity, Status

__all__ = [
    "CollectorError",
    "Evidence",
    "InputDataError",
    "Record",
    "Result",
    "Severity",
    "Status",
    "SystemSettings",
    "check",
    "collector",
    "permissions_document",
    "resolve_secret",
    "scope_kind",
]
