"""The core's own config sections, and the base every system's section extends."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

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


Role = Literal["viewer", "auditor", "editor", "admin"]


def _http_url(url: str) -> str:
    if url and not url.startswith(("https://", "http://")):
        raise ValueError("expected an http(s):// URL")
    return url


# An http(s) URL as given, or "" for none; a BaseUrl has paths appended to it, so no trailing slash.
HttpUrl = Annotated[str, AfterValidator(_http_url)]
BaseUrl = Annotated[HttpUrl, AfterValidator(lambda url: url.rstrip("/"))]


class WebSettings(Section):
    """`annexa serve`, and the dashboard inside `annexa run` when `enabled`.

    Who signs in: OIDC (`oidc_issuer`, `oidc_client_id`, `oidc_client_secret_env`), or a trusted
    reverse proxy's header (`proxy_user_header`, from `trusted_proxies` only), or the bootstrap
    admin token (`admin_token_env`). `roles` maps a user (e-mail or subject) or a group to a role;
    anyone else gets `default_role`, and no role means no access.
    """

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(8470, ge=1, le=65535)
    public_url: BaseUrl = ""  # links in notifications and tickets; default http://host:port
    session_key_file: str = "annexa-web.key"  # created (0600) when missing
    session_ttl: Duration = timedelta(hours=8)
    secure_cookies: bool = True
    admin_token_env: str = ""
    proxy_user_header: str = ""
    proxy_groups_header: str = ""
    trusted_proxies: list[str] = ["127.0.0.1", "::1"]
    oidc_issuer: BaseUrl = ""
    oidc_client_id: str = ""
    oidc_client_secret_env: str = ""
    oidc_scopes: str = "openid email profile"
    oidc_groups_claim: str = "groups"
    roles: dict[str, Role] = {}
    default_role: Role | None = None

    @model_validator(mode="after")
    def _oidc_complete(self) -> WebSettings:
        if self.oidc_issuer and not (self.oidc_client_id and self.oidc_client_secret_env):
            raise ValueError("oidc_issuer needs oidc_client_id and oidc_client_secret_env")
        return self

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


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
