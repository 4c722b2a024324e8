"""The HR system to collect from: BambooHR or an export file, per `[hr]`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from agent.plugin import resolve_secret, scope_kind
from collectors.hr.bamboohr import BambooHR
from collectors.hr.export import read_export
from collectors.hr.settings import HrSettings
from collectors.hr.validate import RawRow


@dataclass(frozen=True)
class HrSystem:
    """The target of scope kind `hr_system`: `hr:bamboohr:<subdomain>` or `hr:file:<file stem>`."""

    settings: HrSettings = field(repr=False)

    @property
    def scope(self) -> str:
        if self.settings.provider == "bamboohr":
            return f"hr:bamboohr:{self.settings.subdomain}"
        return f"hr:file:{Path(self.settings.path).stem}"

    @property
    def label(self) -> str:
        """How messages name the input: the BambooHR company or the file path."""
        if self.settings.provider == "bamboohr":
            return f"BambooHR {self.settings.subdomain}"
        return self.settings.path

    def rows(self) -> Iterator[RawRow]:
        """Raw rows under our field names; the API key is read here, by reference, and kept nowhere."""
        if self.settings.provider == "bamboohr":
            key = resolve_secret(env=self.settings.api_key_env, what="BambooHR API key", key="api_key_env")
            return BambooHR(self.settings, key.get_secret_value()).rows(self.settings.columns)
        return read_export(Path(self.settings.path), self.settings.columns)


@scope_kind("hr_system", system="hr")
def hr_systems(settings: HrSettings) -> Iterator[HrSystem]:
    """The one HR system `[hr]` names."""
    yield HrSystem(settings)
