"""Configuration: one TOML file, every key overridable from the environment.

The file is found from `--config`, else `$ANNEXA_CONFIG`, else `./annexa.toml` (optional).
Environment variables `ANNEXA_<SECTION>__<KEY>` win over the file. Secrets are only ever
named (an environment variable or a file), never written in the file itself; every error
is one line naming the key and where it came from.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from agent.errors import ConfigError

ENV_PREFIX = "ANNEXA_"
DEFAULT_PATH = Path("annexa.toml")
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _seconds(value: Any) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '24h'")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and (m := _DURATION_RE.match(value)):
        return float(m.group(1)) * _UNITS[m.group(2)]
    raise ValueError(f"expected a duration such as '24h', '15m' or '7d', got {value!r}")


def parse_duration(value: Any) -> timedelta:
    """`90s`, `15m`, `24h`, `7d`, `2w`, or a number of seconds."""
    seconds = _seconds(value)
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return timedelta(seconds=seconds)


def parse_delay(value: Any) -> timedelta:
    """A duration that may be zero (a jitter, a grace period)."""
    seconds = _seconds(value)
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return timedelta(seconds=seconds)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Delay = Annotated[timedelta, BeforeValidator(parse_delay)]


@dataclass(frozen=True)
class Cadence:
    """When a source is collected: every `interval`, or at the times of a 5-field cron expression."""

    interval: timedelta | None = None
    cron: str | None = None

    @property
    def label(self) -> str:
        if self.cron is not None:
            return self.cron
        assert self.interval is not None  # built with one or the other
        return f"every {int(self.interval.total_seconds())}s"

    def trigger(self, jitter: timedelta) -> Any:
        """The APScheduler trigger, in UTC, with `jitter` seconds of random delay per firing."""
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        spread = int(jitter.total_seconds()) or None
        if self.cron is not None:
            return CronTrigger(**_cron_fields(self.cron), timezone="UTC", jitter=spread)
        assert self.interval is not None  # built with one or the other
        return IntervalTrigger(seconds=self.interval.total_seconds(), timezone="UTC", jitter=spread)

    @property
    def period(self) -> timedelta:
        """The longest wait between two runs: what evidence freshness is derived from."""
        if self.interval is not None:
            return self.interval
        trigger = self.trigger(timedelta(0))
        now = datetime(2030, 1, 1, tzinfo=UTC)  # a fixed start, so the answer does not vary by day
        fires: list[datetime] = []
        previous = None
        for _ in range(400):  # over a year of daily firings: covers monthly and weekday patterns
            nxt = trigger.get_next_fire_time(previous, now)
            if nxt is None:
                break
            fires.append(nxt)
            previous, now = nxt, nxt
        gaps = [b - a for a, b in pairwise(fires)]
        return max(gaps) if gaps else timedelta(days=366)


_CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _weekday_number(token: str) -> int:
    token = token.lower()
    if token[:3] in _WEEKDAYS:
        return _WEEKDAYS.index(token[:3])
    number = int(token)
    if not 0 <= number <= 7:
        raise ValueError(f"day of week {token} is not 0-7")
    return number % 7


def _crontab_weekdays(field: str) -> str:
    """Crontab counts weekdays from Sunday = 0; APScheduler 3 from Monday = 0: spell them out by name."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            a, b = span.split("-", 1)
            first, last = _weekday_number(a), _weekday_number(b)
            last = 7 if last == 0 and first > 0 else last  # `5-7`, `fri-sun`: through Sunday
        else:
            first = last = _weekday_number(span)
        if last < first:
            raise ValueError(f"day-of-week range {span} runs backwards")
        days.update(d % 7 for d in range(first, last + 1, int(step) if step else 1))
    return ",".join(_WEEKDAYS[d] for d in sorted(days))


def _cron_fields(expr: str) -> dict[str, str]:
    fields = dict(zip(_CRON_FIELDS, expr.split(), strict=True))
    fields["day_of_week"] = _crontab_weekdays(fields["day_of_week"])
    return fields


def parse_cadence(value: Any) -> Cadence:
    """A duration (`6h`) or a standard 5-field cron expression (`0 3 * * 1-5`, in UTC)."""
    if isinstance(value, Cadence):
        return value
    if isinstance(value, str) and len(value.split()) == 5:
        cadence = Cadence(cron=" ".join(value.split()))
        try:
            cadence.trigger(timedelta(0))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a valid cron expression: {exc}") from None
        return cadence
    try:
        return Cadence(interval=parse_duration(value))
    except ValueError:
        raise ValueError(
            f"expected an interval such as '6h' or a cron expression such as '0 3 * * *', got {value!r}"
        ) from None


# NoDecode: from the environment a cadence is plain text (`6h`), not JSON.
CadenceValue = Annotated[Cadence, NoDecode, BeforeValidator(parse_cadence)]


_V = TypeVar("_V")


def match_source(patterns: Mapping[str, _V], source: str) -> _V | None:
    """The value for `source` in a mapping keyed by source names or globs: exact first, then the most specific glob."""
    if source in patterns:
        return patterns[source]
    globs = [p for p in patterns if fnmatchcase(source, p)]
    if not globs:
        return None
    return patterns[max(globs, key=lambda p: (len(p.replace("*", "").replace("?", "")), p))]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


def _secret_from(env_name: str, file_path: str, what: str, key: str) -> SecretStr:
    """Resolve a secret named by reference; missing references fail at load, not mid-run."""
    if env_name:
        value = os.environ.get(env_name)
        if not value:
            raise ValueError(f"{key}: environment variable {env_name} (the {what}) is not set")
        return SecretStr(value)
    try:
        return SecretStr(Path(file_path).read_text().strip())
    except OSError as exc:
        raise ValueError(f"{key}: cannot read {what} file {file_path}: {exc.strerror}") from None


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


class AwsSettings(Section):
    enabled: bool = False
    accounts: list[Annotated[str, Field(pattern=r"^\d{12}$")]] = []
    discover_organization: bool = False
    exclude_accounts: list[Annotated[str, Field(pattern=r"^\d{12}$")]] = []
    regions: list[Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")]] = []
    profile: str = ""
    role_name: str = ""
    external_id: str = ""
    retry_mode: Literal["standard", "adaptive", "legacy"] = "adaptive"
    detail_concurrency: int = Field(8, ge=1, le=64)  # per-resource calls in flight (e.g. per bucket)
    max_attempts: int = Field(8, ge=1, le=20)
    connect_timeout: float = Field(10, gt=0)
    read_timeout: float = Field(60, gt=0)


class GcpSettings(Section):
    enabled: bool = False
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
            _secret_from(self.access_token_env, "", "Google access token", "access_token_env")
        return self


class EntraSettings(Section):
    enabled: bool = False
    tenant_id: str = ""
    client_id: str = ""
    client_secret_env: str = ""
    client_secret_file: str = ""
    certificate_path: str = ""
    managed_identity: bool = False
    workload_identity: bool = False
    access_token_env: str = ""
    graph_url: str = "https://graph.microsoft.com"
    max_attempts: int = Field(5, ge=1, le=10)
    max_retry_wait: float = Field(60, gt=0, le=600)
    timeout: float = Field(60, gt=0)

    @model_validator(mode="after")
    def _credentials(self) -> EntraSettings:
        if not self.enabled:
            return self
        if not self.tenant_id:
            raise ValueError("tenant_id: required when [entra] is enabled")
        needs_client = self.client_secret_env or self.client_secret_file or self.certificate_path
        if needs_client and not self.access_token_env and not self.client_id:
            raise ValueError("client_id: required with a client secret or certificate")
        if self.access_token_env:
            _secret_from(self.access_token_env, "", "Graph access token", "access_token_env")
        elif self.client_secret_env or self.client_secret_file:
            _secret_from(
                self.client_secret_env, self.client_secret_file, "client secret", "client_secret_env"
            )
        elif self.certificate_path:
            if not Path(self.certificate_path).is_file():
                raise ValueError(f"certificate_path: {self.certificate_path} is not a readable file")
        elif not (self.managed_identity or self.workload_identity):
            raise ValueError(
                "no credentials: set client_secret_env, client_secret_file, certificate_path, "
                "managed_identity, workload_identity or access_token_env"
            )
        return self


class HrSettings(Section):
    enabled: bool = False
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
            _secret_from(self.api_key_env, "", "BambooHR API key", "api_key_env")
        elif not self.path:
            raise ValueError("path: required for provider 'file'")
        return self


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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    store: StoreSettings = StoreSettings()
    runner: RunnerSettings = RunnerSettings()
    aws: AwsSettings = AwsSettings()
    gcp: GcpSettings = GcpSettings()
    entra: EntraSettings = EntraSettings()
    hr: HrSettings = HrSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    daemon: DaemonSettings = DaemonSettings()
    checks: ChecksSettings = ChecksSettings()
    controls: ControlsSettings = ControlsSettings()
    export: ExportSettings = ExportSettings()
    plugins: dict[str, dict[str, Any]] = {}

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the file, which arrives as init arguments.
        return (env_settings, init_settings)

    def system_enabled(self, system: str) -> bool:
        section = getattr(self, system, None)
        if isinstance(section, BaseModel):
            return bool(getattr(section, "enabled", False))
        return bool(self.plugins.get(system, {}).get("enabled", False))

    def freshness_for(self, source: str, declared: timedelta) -> timedelta:
        """Explicit freshness, else twice the source's schedule interval, else the collector's own."""
        explicit = match_source(self.schedule.freshness, source)
        if explicit is not None:
            return explicit
        cadence = match_source(self.schedule.sources, source)
        if cadence is not None:
            return 2 * cadence.period
        return declared

    def check_params(self, check_id: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
        given = self.checks.params.get(check_id, {})
        unknown = sorted(set(given) - set(defaults))
        if unknown:
            raise ConfigError(f'[checks.params."{check_id}"] {unknown[0]}: unknown parameter')
        return {**defaults, **given}


def enabled_systems(settings: Settings) -> set[str]:
    """The systems (config sections or `[plugins.<name>]`) switched on."""
    names = {"aws", "gcp", "entra", "hr", *settings.plugins}
    return {n for n in names if settings.system_enabled(n)}


def config_path(explicit: Path | None) -> tuple[Path | None, bool]:
    """The file to read and whether it must exist (it must when named explicitly)."""
    if explicit is not None:
        return explicit, True
    env = os.environ.get(f"{ENV_PREFIX}CONFIG")
    if env:
        return Path(env), True
    return DEFAULT_PATH, False


def read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: cannot read config file: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _key_path(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    if not parts:
        return "config"
    if len(parts) == 1:
        return parts[0]
    return f"[{parts[0]}] {'.'.join(parts[1:])}"


def _env_name(loc: tuple[int | str, ...]) -> str | None:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    for n in range(len(parts), 0, -1):
        name = ENV_PREFIX + "__".join(parts[:n]).upper()
        if any(k.upper() == name for k in os.environ):
            return name
    return None


def _describe(exc: ValidationError, origin: str) -> str:
    errors = exc.errors()
    first = errors[0]
    loc = tuple(first["loc"])
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    else:
        msg = str(first["msg"]).removeprefix("Value error, ")
        if ": " in msg and loc and msg.split(": ", 1)[0].isidentifier():
            # Section validators name the key themselves ("client_secret_env: ...").
            key, msg = msg.split(": ", 1)
            loc = (*loc, key)
    env = _env_name(loc)
    where = f"environment variable {env}" if env else origin
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {_key_path(loc)}: {msg}{more}"


def load_settings(explicit: Path | None = None) -> tuple[Settings, Path | None]:
    """Read, merge and validate; returns the settings and the file they came from (if any)."""
    path, required = config_path(explicit)
    data: dict[str, Any] = {}
    used: Path | None = None
    if path is not None and (required or path.exists()):
        data = read_toml(path)
        used = path
    origin = str(used) if used else "defaults"
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origin)) from None
    except SettingsError as exc:  # an environment value that is not the JSON its key needs
        field = re.search(r'field "(\w+)"', str(exc))
        prefix = f"{ENV_PREFIX}{field.group(1).upper() if field else ''}"
        names = sorted(k for k in os.environ if k.upper().startswith(prefix)) or ["the environment"]
        raise ConfigError(
            f"environment variable {', '.join(names)}: not valid JSON for a list or table value"
        ) from None
    key = Path(settings.export.signing_key)
    if used is not None and not key.is_absolute():
        # Files a config names sit next to it, wherever the command is run from.
        settings.export.signing_key = str(used.parent / key)
    return settings, used
