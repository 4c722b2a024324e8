"""`[assets]`: where the inventory export is. Annexa validates it like its own sections."""

from __future__ import annotations

from pydantic import model_validator

from agent.plugin import SystemSettings


class AssetSettings(SystemSettings):
    path: str = ""  # a JSON list of {"id": ..., "owner": ...}

    @model_validator(mode="after")
    def _path(self) -> AssetSettings:
        if self.enabled and not self.path:
            raise ValueError("path: required when [assets] is enabled")
        return self
