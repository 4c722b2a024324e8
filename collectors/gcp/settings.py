"""`[gcp]`: which organisations and projects to collect from, and how the API is reached."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from agent.plugin import SystemSettings, resolve_secret


class GcpSettings(SystemSettings):
    organization_ids: list[Annotated[str, Field(pattern=r"^\d+$")]] = []
    project_ids: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")]] = []
    api_endpoint: str = Field("", pattern=r"^(https?://\S+)?$")
    access_token_env: str = ""
    deep_inventory: bool = False  # service-account keys and bucket IAM, two calls or more per project
    max_attempts: int = Field(6, ge=1, le=20)
    initial_backoff: float = Field(1.0, gt=0, le=60)
    timeout: float = Field(60, gt=0)
    max_concurrency: int = Field(16, ge=1, le=64)  # API calls in flight per GCP collector

    @model_validator(mode="after")
    def _token(self) -> GcpSettings:
        if self.enabled and self.access_token_env:
            resolve_secret(env=self.access_token_env, what="Google access token", key="access_token_env")
        return self
