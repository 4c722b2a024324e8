"""The core's own config sections, and the base every system's section extends."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent.config.cadence import Cadence, CadenceValue, match_source
from agent.config.durations import Delay, Duration


class Section(BaseModel):
    """A `[section]` of the config file: unknown keys and wrong types are errors, defaults validated too."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


class SystemSettings(Section):
    """A source system's `[section]`. A plugin subclasses it in `collectors/<system>/settings.py` and
    names the subclass in the `annexa.settings` entry point under the system's name; the core then
    validates it, switches the system on with `enabled`, and hands it to the system's target resolvers.
    """

    enabled: bool = False


class StoreSettings(Section):
    url: str = "sqlite:///annexa.db"

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        if "://" not in url:  # not echoed: it may hold a password
            raise ValueError("not a database URL such as sqlite:///annexa.db")
        return url


class RunnerSettings(Section):
    workers: int = Field(16, ge=1, le=256)
    per_service: int = Field(8, ge=1, le=256)
    collector_timeout: Duration = timedelta(minutes=15)
    lease_ttl: Duration = timedelta(minutes=5)  # a dead agent's claim on its targets lapses after this


class ScheduleSettings(Section):
    interval: CadenceValue = Cadence(interval=timedelta(hours=24))
    jitter: Delay = timedelta(minutes=2)
    misfire_grace: Delay = timedelta(hours=1)
    sources: dict[str, CadenceValue] = {}
    freshness: dict[str, Duration] = {}

    def cadence_for(self, source: str) -> Cadence:
        return match_source(self.sources, source) or self.interval


class DaemonSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(9464, ge=1, le=65535)
    shutdown_grace: Delay = timedelta(seconds=30)


class ChecksSettings(Section):
    disabled: list[str] = []
    params: dict[str, dict[str, Any]] = {}


class ControlsSettings(Section):
    excluded: dict[str, str] = {}

    @model_validator(mode="after")
    def _justified(self) -> ControlsSettings:
        for control, why in self.excluded.items():
            if not why.strip():
                raise ValueError(f"excluded.{control}: an exclusion needs a justification for the SoA")
        return self


class ExportSettings(Section):
    signing_key: str = "annexa-signing.key"


_TAKE = re.compile(r"^(all|([1-9][0-9]?|100)%)$")


class SampleTier(Section):
    """Populations of up to `up_to` members: take `take` of them ("all", a count, or "N%" rounded up)."""

    up_to: int = Field(ge=1)
    take: int | str

    @field_validator("take")
    @classmethod
    def _take(cls, take: int | str) -> int | str:
        if (isinstance(take, int) and take < 1) or (isinstance(take, str) and not _TAKE.match(take)):
            raise ValueError('take is "all", a count of at least 1, or a percentage such as "10%"')
        return take


class SamplesSettings(Section):
    """`annexa sample` and the samples in bundles: the size rule, and which populations bundles sample."""

    sizes: list[SampleTier] = [
        SampleTier(up_to=5, take="all"),
        SampleTier(up_to=50, take=5),
        SampleTier(up_to=250, take="10%"),
    ]
    beyond: int = Field(25, ge=1)  # larger populations
    bundle: list[str] | None = None  # None: every declared population the bundle's evidence allows

    @model_validator(mode="after")
    def _ascending(self) -> SamplesSettings:
        bounds = [t.up_to for t in self.sizes]
        if bounds != sorted(set(bounds)):
            raise ValueError("sizes: each tier's up_to must be larger than the one before")
        return self


class InventorySettings(Section):
    """`annexa inventory` and every bundle's inventory.json: the tags that name each asset's owner
    and classification (A.5.9, A.5.12), the first one a resource carries (in this order) winning."""

    owner_tags: list[str] = ["owner", "Owner", "OWNER"]
    classification_tags: list[str] = [
        "classification",
        "Classification",
        "data-classification",
        "DataClassification",
    ]

    @field_validator("owner_tags", "classification_tags")
    @classmethod
    def _named(cls, tags: list[str]) -> list[str]:
        if any(not t.strip() for t in tags):
            raise ValueError("a tag name cannot be empty")
        return tags
