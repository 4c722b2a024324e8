"""Loading plugins through their entry points into a registry.

Three entry-point groups, each named after a system or a check package:
- `annexa.settings`: the system's settings section (a `SystemSettings` subclass); light, so the
  configuration can be validated before any SDK is imported;
- `annexa.collectors`: the module whose import declares the system's collectors and target resolvers;
- `annexa.checks`: a module of checks, populations or asset readers (always loaded: they are pure
  and light).

A system with collectors but no settings entry point gets the base section (`enabled` only).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib.metadata import EntryPoint, EntryPoints, entry_points
from typing import Any

from agent.config.sections import SystemSettings
from agent.errors import PluginError
from agent.integrations.settings import IntegrationSettings
from agent.plugin.declare import DECLARED
from agent.plugin.registry import Registry

_GROUPS = ("annexa.settings", "annexa.collectors", "annexa.checks", "annexa.integrations")
_CORE_SECTIONS = frozenset(
    {
        "store", "runner", "schedule", "daemon", "checks", "controls", "export", "samples", "inventory",
        "web", "notify",
    }
)  # fmt: skip


@cache
def _installed() -> EntryPoints:
    """Every installed entry point of our groups, read once per process: each read scans every
    installed distribution's metadata."""
    everything = entry_points()
    return EntryPoints(ep for group in _GROUPS for ep in everything.select(group=group))


def _group(group: str) -> list[EntryPoint]:
    return sorted(_installed().select(group=group), key=lambda e: e.name)


def _load(ep: EntryPoint) -> Any:
    try:
        return ep.load()
    except Exception as exc:
        raise PluginError(f"plugin {ep.name!r} ({ep.value}) in {ep.group} failed to load: {exc}") from exc


def load_systems(registry: Registry) -> Registry:
    """Fill `registry.systems` with every installed system's settings model."""
    for ep in _group("annexa.collectors"):
        registry.systems.setdefault(ep.name, SystemSettings)
    for ep in _group("annexa.settings"):
        model = _load(ep)
        if not (isinstance(model, type) and issubclass(model, SystemSettings)):
            raise PluginError(
                f"plugin {ep.name!r} ({ep.value}) in {ep.group} is not a SystemSettings subclass"
            )
        registry.systems[ep.name] = model
    clash = sorted(_CORE_SECTIONS.intersection(registry.systems))
    if clash:
        raise PluginError(f"plugin system {clash[0]!r} takes the name of a core config section")
    return registry


def load_plugins(registry: Registry | None = None, systems: Iterable[str] | None = None) -> Registry:
    """Import the plugin modules and copy what they declared into `registry` (a new one if None).

    With `systems` given, only those systems' collectors are imported, so an agent never pays for
    SDKs it does not use; checks are always loaded.
    """
    if registry is None:
        registry = Registry()
    if not registry.systems:
        load_systems(registry)
    wanted = set(registry.systems if systems is None else systems)
    for ep in _group("annexa.collectors"):
        if ep.name in wanted:
            _load(ep)
    for ep in _group("annexa.checks"):
        _load(ep)
    _copy_declared(registry, wanted)
    return registry


def _copy_declared(registry: Registry, systems: set[str]) -> None:
    registry.collectors.update({k: s for k, s in DECLARED.collectors.items() if s.system in systems})
    registry.scope_kinds.update({k: s for k, s in DECLARED.scope_kinds.items() if s.system in systems})
    registry.permission_documents.update(
        {k: f for k, f in DECLARED.permission_documents.items() if k in systems}
    )
    registry.checks.update(DECLARED.checks)
    registry.populations.update(DECLARED.populations)
    registry.asset_readers.update(DECLARED.asset_readers)


def installed_integrations() -> dict[str, type[IntegrationSettings]]:
    """The installed channels' and trackers' settings models, by name (`annexa.integrations`)."""
    found: dict[str, type[IntegrationSettings]] = {}
    for ep in _group("annexa.integrations"):
        model = _load(ep)
        if not (
            isinstance(model, type) and issubclass(model, IntegrationSettings) and hasattr(model, "kind")
        ):
            raise PluginError(
                f"plugin {ep.name!r} ({ep.value}) in {ep.group} is not a ChannelSettings or TrackerSettings"
            )
        found[ep.name] = model
    taken = _CORE_SECTIONS | set(installed_systems())
    clash = sorted(n for n, m in found.items() if m.kind == "tracker" and n in taken)
    if clash:
        raise PluginError(f"tracker {clash[0]!r} takes the name of another config section")
    return found


def installed_systems() -> dict[str, type[SystemSettings]]:
    """The installed systems' settings models, by system name."""
    return load_systems(Registry()).systems
