"""`[aws]`: which accounts and regions to collect from, and how hard to lean on the APIs."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from agent.plugin import SystemSettings

AccountId = Annotated[str, Field(pattern=r"^\d{12}$")]


class AwsSettings(SystemSettings):
    accounts: list[AccountId] = []
    discover_organization: bool = False
    exclude_accounts: list[AccountId] = []
    regions: list[Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")]] = []
    profile: str = ""
    role_name: str = ""
    external_id: str = ""
    retry_mode: Literal["standard", "adaptive", "legacy"] = "adaptive"
    detail_concurrency: int = Field(8, ge=1, le=64)  # per-resource calls in flight (e.g. per bucket)
    max_attempts: int = Field(8, ge=1, le=20)
    connect_timeout: float = Field(10, gt=0)
    read_timeout: float = Field(60, gt=0)
