"""The decorators a plugin module declares its collectors, checks, populations, asset readers and target
resolvers with.

Declarations go to `DECLARED`, the process's catalogue of everything imported plugin modules
declared; `load_plugins` copies the loaded systems' share of it into the registry it is given, so
any number of registries can be filled in one process.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from agent.errors import PluginError
from agent.plugin.model import Asset, Record, Result, Severity
from agent.plugin.registry import (
    SOURCE_RE,
    AssetReaderSpec,
    CheckSpec,
    CollectorSpec,
    PopulationSpec,
    Registry,
    ScopeKindSpec,
    Target,
)

if TYPE_CHECKING:
    from agent.plugin.evidence import Evidence
    from agent.plugin.period_view import Member, Period

DECLARED = Registry()
_Document = Callable[[list[str]], str]
_Spec = TypeVar("_Spec", CollectorSpec, CheckSpec, PopulationSpec, AssetReaderSpec)
_AssetReader = Callable[[Record], Asset]
_Population = Callable[["Period"], Iterable["Member"]]
POPULATION_RE = re.compile(r"^[a-z][a-z0-9-]*(:[a-z0-9_.]+)?$")


def _declare(table: dict[str, _Spec], key: str, spec: _Spec, what: str) -> None:
    """Re-importing a module declares the same function again (fine); another function is a clash."""
    if key in table and table[key].func is not spec.func:
        raise PluginError(f"{what} {key!r} is registered twice")
    table[key] = spec


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
        spec = CollectorSpec(source, scope, func, freshness, tuple(permissions), _first_line(func.__doc__))
        _declare(DECLARED.collectors, source, spec, "collector")
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
    context: Sequence[str] = (),
) -> Callable[[Callable[[Evidence], Iterator[Result]]], Callable[[Evidence], Iterator[Result]]]:
    """Register a pure function that judges an evidence view; `controls` maps each Annex A id to why.

    `needs` decide: missing, failed or stale evidence of any makes every result `error`. `context`
    only informs (a reason's cross-system timeline): read when collected, named in `ev.gaps` when not.
    """
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
        spec = CheckSpec(
            check_id,
            title,
            mapping,
            sev,
            tuple(needs),
            rationale,
            remediation,
            func,
            dict(params or {}),
            tuple(s for s in context if s not in needs),
        )
        _declare(DECLARED.checks, check_id, spec, "check")
        return func

    return register


def population(
    name: str,
    *,
    title: str,
    question: str,
    needs: Sequence[str] = (),
    context: Sequence[str] = (),
    family: bool = False,
) -> Callable[[_Population], _Population]:
    """Register a pure function that derives a population's members from a period's evidence.

    `needs` must be listed in the period; `context` is read when it is. A `family` declares no
    needs: `annexa sample --population NAME:<source>` binds it to one source (`{source}` in
    `title` names it), which it then needs.
    """
    if not POPULATION_RE.match(name) or (family and ":" in name):
        raise PluginError(f"population name {name!r} is not of the form name or name:part (lowercase)")
    for source in (*needs, *context):
        if not SOURCE_RE.match(source):
            raise PluginError(f"population {name!r}: {source!r} is not a source (system.service.dataset)")
    if family == bool(needs):
        raise PluginError(f"population {name!r} needs at least one source (a family declares none)")

    def register(func: _Population) -> _Population:
        spec = PopulationSpec(
            name, title, question, tuple(needs), func, tuple(s for s in context if s not in needs), family
        )
        _declare(DECLARED.populations, name, spec, "population")
        return func

    return register


def asset_reader(source: str) -> Callable[[_AssetReader], _AssetReader]:
    """Register how the asset inventory reads a record of `source`: a pure function returning its
    `Asset` (type, name, tags). `annexa inventory` and every bundle's inventory.json use it, and
    `annexa verify` reads the bundle's evidence with it again, so it reads only the record."""
    if not SOURCE_RE.match(source):
        raise PluginError(f"asset reader source {source!r} is not of the form system.service.dataset")

    def register(func: _AssetReader) -> _AssetReader:
        _declare(DECLARED.asset_readers, source, AssetReaderSpec(source, func), "asset reader")
        return func

    return register


_Resolver = TypeVar("_Resolver", bound=Callable[..., Iterable[Target]])


def scope_kind(
    name: str,
    *,
    system: str,
    when: Callable[[Any], bool] | None = None,
    permissions: Sequence[str] = (),
    uses: Sequence[str] = (),
) -> Callable[[_Resolver], _Resolver]:
    """Register how the targets of one scope kind (e.g. every AWS account) are found.

    The resolver receives the system's own settings section. `when` switches an optional kind
    (a deeper inventory) on from that section; while it is off its collectors do not run and the
    checks that need them are not active. `permissions` are what resolving calls. `uses` names
    other systems whose sections the resolver receives after its own (`[intune]` signs in with
    `[entra]`'s tenant and credentials).
    """

    def register(func: _Resolver) -> _Resolver:
        DECLARED.scope_kinds[name] = ScopeKindSpec(
            name=name,
            system=system,
            resolve=func,
            when=when,
            permissions=tuple(permissions),
            uses=tuple(uses),
        )
        return func

    return register


def permissions_document(system: str) -> Callable[[_Document], _Document]:
    """Register how `annexa permissions <system>` renders the system's permissions (a role, a manifest)
    instead of one permission per line; the function receives them sorted."""

    def register(func: _Document) -> _Document:
        DECLARED.permission_documents[system] = func
        return func

    return register
