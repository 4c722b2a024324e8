"""Configuration: one TOML file, every key overridable from the environment.

The file is found from `--config`, else `$ANNEXA_CONFIG`, else `./annexa.toml` (optional).
Environment variables `ANNEXA_<SECTION>__<KEY>` win over the file. The core's sections are in
agent/config/sections.py; each source system brings its own (`[aws]`, `[mysystem]`), registered
through the `annexa.settings` entry point, and gets the same validation as the core's. Secrets
are only ever named (an environment variable or a file), never written in the file itself; every
error is one line naming the key and where it came from.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from agent.config import DEFAULT_PATH
from agent.config.cadence import match_source
from agent.config.environment import merged, overrides
from agent.config.messages import ENV_PREFIX, describe
from agent.config.sections import (
    ChecksSettings,
    ControlsSettings,
    DaemonSettings,
    ExportSettings,
    InventorySettings,
    RunnerSettings,
    SamplesSettings,
    ScheduleSettings,
    StoreSettings,
    SystemSettings,
    WebSettings,
)
from agent.errors import ConfigError
from agent.integrations.settings import IntegrationSettings, NotifySettings, TrackerSettings

_S = TypeVar("_S", bound=SystemSettings)


class Settings(BaseModel):
    """The core's sections; `settings_class` extends it with one field per installed system."""

    model_config = ConfigDict(extra="forbid")

    store: StoreSettings = StoreSettings()
    runner: RunnerSettings = RunnerSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    daemon: DaemonSettings = DaemonSettings()
    checks: ChecksSettings = ChecksSettings()
    controls: ControlsSettings = ControlsSettings()
    export: ExportSettings = ExportSettings()
    samples: SamplesSettings = SamplesSettings()
    inventory: InventorySettings = InventorySettings()
    web: WebSettings = WebSettings()
    notify: NotifySettings = NotifySettings()

    def systems(self) -> dict[str, SystemSettings]:
        """Every system's section, by system name."""
        fields = type(self).model_fields
        return {name: v for name in fields if isinstance(v := getattr(self, name), SystemSettings)}

    def system(self, name: str) -> SystemSettings:
        """A system's section; an unknown system reads as a section that is switched off."""
        return self.systems().get(name) or SystemSettings()

    def section(self, model: type[_S]) -> _S:
        """The section of the system whose settings model is `model`, typed as such."""
        for value in self.systems().values():
            if isinstance(value, model):
                return value
        raise ConfigError(f"no installed system has the settings section {model.__name__}")

    def system_enabled(self, name: str) -> bool:
        return self.system(name).enabled

    def enabled_systems(self) -> set[str]:
        return {name for name, section in self.systems().items() if section.enabled}

    def trackers(self) -> dict[str, TrackerSettings]:
        """The enabled ticket trackers' sections, by tracker name."""
        fields = type(self).model_fields
        return {
            name: v for name in fields if isinstance(v := getattr(self, name), TrackerSettings) and v.enabled
        }

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


Integrations = Mapping[str, type[IntegrationSettings]]


@cache
def _settings_class(
    systems: tuple[tuple[str, type[SystemSettings]], ...],
    integrations: tuple[tuple[str, type[IntegrationSettings]], ...],
) -> type[Settings]:
    fields: dict[str, Any] = {name: (model, model()) for name, model in systems}
    channels = {name: (m, m()) for name, m in integrations if m.kind == "channel"}
    notify = create_model("NotifySettings", __base__=NotifySettings, **channels)  # type: ignore[call-overload]
    fields["notify"] = (notify, notify())
    fields.update({name: (m, m()) for name, m in integrations if m.kind == "tracker"})
    return create_model("Settings", __base__=Settings, **fields)


def settings_class(
    systems: Mapping[str, type[SystemSettings]], integrations: Integrations | None = None
) -> type[Settings]:
    """The root model with a `[<system>]` section for each of `systems`, a `[notify.<channel>]`
    table for each channel and a `[<tracker>]` section for each tracker of `integrations`
    (cached per set)."""
    return _settings_class(tuple(sorted(systems.items())), tuple(sorted((integrations or {}).items())))


def build_settings(
    data: Mapping[str, Any],
    systems: Mapping[str, type[SystemSettings]] | None = None,
    origin: str = "defaults",
    integrations: Integrations | None = None,
) -> Settings:
    """Validate `data` (the file's tables) under the environment's overrides; errors become one line.

    `systems` are the settings models of the systems to accept sections for, `integrations` those
    of the channels and trackers; by default the installed ones (the `annexa.settings` and
    `annexa.integrations` entry points).
    """
    from agent.plugin.loader import installed_integrations, installed_systems

    if systems is None:
        systems = installed_systems()
    if integrations is None:
        integrations = installed_integrations()
    model = settings_class(systems, integrations)
    try:
        return model(**merged(data, overrides(model, os.environ)))
    except ValidationError as exc:
        raise ConfigError(describe(exc, origin)) from None


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


def load_settings(
    explicit: Path | None = None, systems: Mapping[str, type[SystemSettings]] | None = None
) -> tuple[Settings, Path | None]:
    """Read, merge and validate; returns the settings and the file they came from (if any)."""
    path, required = config_path(explicit)
    data: dict[str, Any] = {}
    used: Path | None = None
    if path is not None and (required or path.exists()):
        data = read_toml(path)
        used = path
    settings = build_settings(data, systems, str(used) if used else "defaults")
    if used is not None:
        # Files a config names sit next to it, wherever the command is run from.
        settings.export.signing_key = str(used.parent / settings.export.signing_key)
        settings.web.session_key_file = str(used.parent / settings.web.session_key_file)
    return settings, used
