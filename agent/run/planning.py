"""What a run will do: the collectors chosen, and one task per collector x target of this shard."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from agent.config.settings import Settings
from agent.errors import CollectorError, UsageError
from agent.logs import get_logger
from agent.plugin.registry import CollectorSpec, Registry, Target
from agent.redact import describe_error
from agent.run.shard import Shard

log = get_logger()


@dataclass(frozen=True)
class Task:
    """One collector in one target; a target that could not be resolved carries the error instead."""

    spec: CollectorSpec
    target: Target | None
    scope: str
    error: str | None = None


def nothing_enabled(registry: Registry, what: str) -> UsageError:
    """The error for a command with nothing to do, naming the sections that would switch a system on."""
    sections = ", ".join(f"[{name}]" for name in sorted(registry.systems)) or "a system's section"
    return UsageError(f"{what}: enable at least one of {sections}")


def select_collectors(registry: Registry, settings: Settings, patterns: list[str]) -> list[CollectorSpec]:
    """The active collectors matching `--source` globs (all active ones without); a glob that
    matches no collector at all is a usage error, not an empty run."""
    enabled = [c for c in registry.collectors.values() if registry.collector_active(c, settings)]
    for pattern in patterns:
        if not any(fnmatchcase(c.source, pattern) for c in registry.collectors.values()):
            known = ", ".join(sorted(registry.collectors)) or "none"
            raise UsageError(f"--source {pattern!r} matches no collector (known: {known})")
    chosen = [c for c in enabled if not patterns or any(fnmatchcase(c.source, p) for p in patterns)]
    return sorted(chosen, key=lambda c: c.source)


def plan_tasks(
    registry: Registry, settings: Settings, shard: Shard, collectors: list[CollectorSpec]
) -> list[Task]:
    """Resolve each scope kind's targets once; a kind that cannot be resolved (or has no target)
    turns into one failing task per collector, so its evidence is `error`, never silently absent."""
    tasks: list[Task] = []
    by_kind: dict[str, list[CollectorSpec]] = {}
    for spec in collectors:
        by_kind.setdefault(spec.scope_kind, []).append(spec)
    for kind, specs in sorted(by_kind.items()):
        provider = registry.scope_kinds.get(kind)
        system = specs[0].system
        try:
            if provider is None:
                raise CollectorError(f"no target provider registered for scope kind {kind!r}")
            targets = list(registry.targets(provider, settings))
            if not targets:
                raise CollectorError(f"no {kind} targets found")
        except Exception as exc:
            error = f"cannot resolve {kind} targets: {describe_error(exc)}"
            log.error("targets_unresolved", kind=kind, error=error)
            tasks.extend(Task(spec, None, system, error) for spec in specs)
            continue
        owned = [t for t in targets if shard.owns(t.scope)]
        tasks.extend(Task(spec, t, t.scope) for t in owned for spec in specs)
    return tasks
