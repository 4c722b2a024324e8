"""Registries of collectors, checks and target providers.

Built-in and third-party plugins register the same way: an entry point in the
`annexa.collectors` or `annexa.checks` group names a module whose decorators fill these
registries on import. The core never imports a collector or a check by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol

from agent.errors import PluginError
from agent.plugin.model import Record, Result, Severity

if TYPE_CHECKING:
    from agent.config.settings import Settings
    from agent.plugin.evidence import Evidence

SOURCE_RE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+){1,3}$")
CONTROL_RE = re.compile(r"^A\.[5-8]\.\d{1,2}$")


class Target(Protocol):
    """Where a collector runs: one account, region, project, tenant or HR system.

    `scope` is the evidence scope string, `<system>:<target>[:<part>...]` (`aws:123456789012`,
    `aws:123456789012:eu-west-1`): its first two parts name the target that leases and
    `--shard K/N` are about (see agent/run/shard.py).
    """

    scope: str


@dataclass(frozen=True)
class CollectorSpec:
    source: str
    scope_kind: str
    func: Callable[[Any], Iterable[Record]]
    freshness: timedelta
    permissions: tuple[str, ...]
    description: str

    @property
    def system(self) -> str:
        return self.source.split(".", 1)[0]

    @property
    def service(self) -> str:
        """`aws.iam` for `aws.iam.users`: the unit the per-service concurrency cap applies to."""
        return ".".join(self.source.split(".")[:2])


@dataclass(frozen=True)
class CheckSpec:
    id: str
    title: str
    controls: Mapping[str, str]
    severity: Severity
    needs: tuple[str, ...]
    rationale: str
    remediation: str
    func: Callable[[Evidence], Iterable[Result]]
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def primary_source(self) -> str:
        """The source whose scopes the check is evaluated in; the others are joined to it."""
        return self.needs[0]


@dataclass(frozen=True)
class ScopeKindSpec:
    name: str
    system: str
    resolve: Callable[[Settings], Iterable[Target]]
    when: Callable[[Settings], bool] | None = None


@dataclass
class Registry:
    collectors: dict[str, CollectorSpec] = field(default_factory=dict)
    checks: dict[str, CheckSpec] = field(default_factory=dict)
    scope_kinds: dict[str, ScopeKindSpec] = field(default_factory=dict)
    loaded: set[str] = field(default_factory=set)

    def collectors_for(self, kind: str) -> list[CollectorSpec]:
        return [c for c in self.collectors.values() if c.scope_kind == kind]

    def collector_active(self, spec: CollectorSpec, settings: Settings) -> bool:
        """Its system is enabled and its scope kind is not switched off by configuration."""
        kind = self.scope_kinds.get(spec.scope_kind)
        return settings.system_enabled(spec.system) and (
            kind is None or kind.when is None or kind.when(settings)
        )

    def source_active(self, source: str, settings: Settings) -> bool:
        spec = self.collectors.get(source)
        return spec is not None and self.collector_active(spec, settings)

    def checks_needing(self, sources: Iterable[str]) -> list[CheckSpec]:
        wanted = set(sources)
        return [c for c in self.checks.values() if wanted.intersection(c.needs)]


REGISTRY = Registry()


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0] if doc and doc.strip() else ""


def collector(
    source: str,
    *,
    scope: str,
    freshness: timedelta = timedelta(hours=24),
    permissions: Sequence[str] = (),
) -> Callable[[Callable[[Any], Iterable[Record]]], Callable[[Any], Iterable[Record]]]:
    """Register a function that lists one source in one target and yields `Record`s."""
    if not SOURCE_RE.match(source):
        raise PluginError(f"collector source {source!r} is not of the form system.service.dataset")

    def register(func: Callable[[Any], Iterable[Record]]) -> Callable[[Any], Iterable[Record]]:
        if source in REGISTRY.collectors and REGISTRY.collectors[source].func is not func:
            raise PluginError(f"collector {source!r} is registered twice")
        REGISTRY.collectors[source] = CollectorSpec(
            source=source,
            scope_kind=scope,
            func=func,
            freshness=freshness,
            permissions=tuple(permissions),
            description=_first_line(func.__doc__),
        )
        return func

    return register


def check(
    check_id: str,
    *,
    title: str,
    controls: Mapping[str, str] | Sequence[str],
    severity: str,
    needs: Sequence[str],
    rationale: str,
    remediation: str,
    params: Mapping[str, Any] | None = None,
) -> Callable[[Callable[[Evidence], Iterator[Result]]], Callable[[Evidence], Iterator[Result]]]:
    """Register a pure function that judges an evidence view; `controls` maps each Annex A id to why."""
    if not SOURCE_RE.match(check_id):
        raise PluginError(f"check id {check_id!r} is not of the form system.subject.name")
    if not needs:
        raise PluginError(f"check {check_id!r} needs at least one source")
    mapping = dict(controls) if isinstance(controls, Mapping) else dict.fromkeys(controls, "")
    try:
        sev = Severity(severity)
    except ValueError:
        raise PluginError(f"check {check_id!r}: severity {severity!r} is not major, minor or ofi") from None

    def register(func: Callable[[Evidence], Iterator[Result]]) -> Callable[[Evidence], Iterator[Result]]:
        if check_id in REGISTRY.checks and REGISTRY.checks[check_id].func is not func:
            raise PluginError(f"check {check_id!r} is registered twice")
        REGISTRY.checks[check_id] = CheckSpec(
            id=check_id,
            title=title,
            controls=mapping,
            severity=sev,
            needs=tuple(needs),
            rationale=rationale,
            remediation=remediation,
            func=func,
            params=dict(params or {}),
        )
        return func

    return register


def scope_kind(
    name: str, *, system: str, when: Callable[[Settings], bool] | None = None
) -> Callable[[Callable[[Settings], Iterable[Target]]], Callable[[Settings], Iterable[Target]]]:
    """Register how the targets of one scope kind (e.g. every AWS account) are found from the config.

    `when` switches an optional kind (a deeper inventory) on from the configuration; while it is
    off its collectors do not run and the checks that need them are not active.
    """

    def register(func: Callable[[Settings], Iterable[Target]]) -> Callable[[Settings], Iterable[Target]]:
        REGISTRY.scope_kinds[name] = ScopeKindSpec(name=name, system=system, resolve=func, when=when)
        return func

    return register


def load_plugins(registry: Registry = REGISTRY, systems: Iterable[str] | None = None) -> Registry:
    """Import the modules the two entry-point groups name (each once per process).

    A collector entry point is named after its system (`aws`, `entra`, ...); with `systems` given,
    only those systems' collectors are imported, so an agent never pays for SDKs it does not use.
    Checks are light and always loaded.
    """
    wanted = None if systems is None else set(systems)
    for group in ("annexa.collectors", "annexa.checks"):
        for ep in sorted(entry_points(group=group), key=lambda e: e.name):
            key = f"{group}:{ep.name}"
            if key in registry.loaded or (
                group == "annexa.collectors" and wanted is not None and ep.name not in wanted
            ):
                continue
            try:
                ep.load()
            except Exception as exc:
                raise PluginError(
                    f"plugin {ep.name!r} ({ep.value}) in {group} failed to load: {exc}"
                ) from exc
            registry.loaded.add(key)
    return registry
