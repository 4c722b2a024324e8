"""What a registry holds: the collectors, checks, populations, target resolvers and settings of the
loaded systems.

Plugin modules declare these with the decorators in agent/plugin/declare.py; agent/plugin/loader.py
imports the modules the entry points name and fills a `Registry` with what they declared. The
core never imports a collector, a check or a system's settings by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from agent.plugin.model import Asset, Record, Result, Severity

if TYPE_CHECKING:
    from agent.config.sections import SystemSettings
    from agent.config.settings import Settings
    from agent.plugin.evidence import Evidence
    from agent.plugin.period_view import Member, Period

SOURCE_RE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+){1,3}$")
CONTROL_RE = re.compile(r"^A\.[5-8]\.\d{1,2}$")


class Target(Protocol):
    """Where a collector runs: one account, region, project, tenant or HR system.

    `scope` is the evidence scope string, `<system>:<target>[:<part>...]` (`aws:123456789012`,
    `aws:123456789012:eu-west-1`): its first two parts name the target that leases and
    `--shard K/N` are about (see agent/run/shard.py).
    """

    @property
    def scope(self) -> str: ...


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
    # Sources read when their system is enabled, to tell more (a leaver's accounts elsewhere), never
    # to decide: their absence or failure does not stop the check, the view names it in `gaps`.
    context: tuple[str, ...] = ()

    @property
    def primary_source(self) -> str:
        """The source whose scopes the check is evaluated in; the others are joined to it."""
        return self.needs[0]


@dataclass(frozen=True)
class PopulationSpec:
    """A population an auditor samples from: members derived from the sealed evidence of a period.

    `needs` must each have a listing in the period for the population to be derived at all;
    `context` is read when listed (a leaver's accounts in every identity system). A `family`
    (`resources`) stands for one population per source, named `resources:<source>`, which needs it.
    """

    name: str
    title: str
    question: str  # what each member's evidence answers
    needs: tuple[str, ...]
    func: Callable[[Period], Iterable[Member]]
    context: tuple[str, ...] = ()
    family: bool = False

    @property
    def sources(self) -> tuple[str, ...]:
        return (*self.needs, *self.context)

    def bind(self, source: str) -> PopulationSpec:
        """The family's population of `source`."""
        return replace(
            self,
            name=f"{self.name}:{source}",
            title=self.title.format(source=source),
            needs=(source,),
            family=False,
        )


@dataclass(frozen=True)
class AssetReaderSpec:
    """How the asset inventory reads one source's records: each record as an `Asset`.

    Declared next to what it reads (a check package), so `agent/` names no system; a source
    without one is still listed, each resource as its id under the source's name."""

    source: str
    func: Callable[[Record], Asset]


@dataclass(frozen=True)
class ScopeKindSpec:
    """How one kind of target is found from the system's own settings section.

    `permissions` are what resolving calls (listing an organisation's accounts, say), beyond
    what the collectors declare; `when` switches an optional kind on from the section; `uses`
    names other systems whose sections the resolver also receives, in that order (a system that
    signs in with another's credentials).
    """

    name: str
    system: str
    resolve: Callable[..., Iterable[Target]]
    when: Callable[[Any], bool] | None = None
    permissions: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()


@dataclass
class Registry:
    collectors: dict[str, CollectorSpec] = field(default_factory=dict)
    checks: dict[str, CheckSpec] = field(default_factory=dict)
    populations: dict[str, PopulationSpec] = field(default_factory=dict)
    asset_readers: dict[str, AssetReaderSpec] = field(default_factory=dict)
    scope_kinds: dict[str, ScopeKindSpec] = field(default_factory=dict)
    systems: dict[str, type[SystemSettings]] = field(default_factory=dict)
    permission_documents: dict[str, Callable[[list[str]], str]] = field(default_factory=dict)

    def collectors_for(self, kind: str) -> list[CollectorSpec]:
        return [c for c in self.collectors.values() if c.scope_kind == kind]

    def collector_active(self, spec: CollectorSpec, settings: Settings) -> bool:
        """Its system is enabled and its scope kind is not switched off by configuration."""
        kind = self.scope_kinds.get(spec.scope_kind)
        if not settings.system_enabled(spec.system):
            return False
        return kind is None or kind.when is None or kind.when(settings.system(spec.system))

    def source_active(self, source: str, settings: Settings) -> bool:
        spec = self.collectors.get(source)
        return spec is not None and self.collector_active(spec, settings)

    def targets(self, kind: ScopeKindSpec, settings: Settings) -> Iterable[Target]:
        """The targets of `kind`, resolved from its system's section (and those it `uses`) of `settings`."""
        return kind.resolve(settings.system(kind.system), *(settings.system(s) for s in kind.uses))

    def checks_needing(self, sources: Iterable[str]) -> list[CheckSpec]:
        wanted = set(sources)
        return [c for c in self.checks.values() if wanted.intersection(c.needs)]

    def population(self, name: str) -> PopulationSpec | None:
        """The population called `name`: a declared one, or a family's (`resources:aws.iam.users`)."""
        spec = self.populations.get(name)
        if spec is not None:
            return None if spec.family else spec
        base, _, source = name.partition(":")
        family = self.populations.get(base)
        if family is None or not family.family or not SOURCE_RE.match(source):
            return None
        return family.bind(source)
