"""`[hr]`: the HR system of record (BambooHR or an export file) and how its columns map to ours."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from agent.plugin import SystemSettings, resolve_secret


class HrSettings(SystemSettings):
    provider: Literal["bamboohr", "file"] = "file"
    subdomain: str = ""
    api_key_env: str = ""
    base_url: str = ""
    path: str = ""
    columns: dict[str, str] = {}
    status_values: dict[str, Literal["active", "leave", "terminated"]] = {}
    aliases: dict[str, str] = {}
    max_attempts: int = Field(5, ge=1, le=10)
    max_retry_wait: float = Field(60, gt=0, le=600)
    timeout: float = Field(60, gt=0)

    FIELDS: ClassVar[tuple[str, ...]] = (
        "employee_id", "email", "name", "status", "hire_date", "termination_date", "manager_email",
        "department", "screening_completed", "terms_signed", "nda_signed", "training_completed",
    )  # fmt: skip

    @model_validator(mode="after")
    def _provider(self) -> HrSettings:
        unknown = sorted(set(self.columns) - set(self.FIELDS))
        if unknown:
            raise ValueError(f"columns: {unknown[0]} is not one of {', '.join(self.FIELDS)}")
        if not self.enabled:
            return self
        if self.provider == "bamboohr":
            if not self.subdomain:
                raise ValueError("subdomain: required for provider 'bamboohr'")
            if not self.api_key_env:
                raise ValueError("api_key_env: required for provider 'bamboohr'")
            resolve_secret(env=self.api_key_env, what="BambooHR API key", key="api_key_env")
        elif not self.path:
            raise ValueError("path: required for provider 'file'")
        return self
