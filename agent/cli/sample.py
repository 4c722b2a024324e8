"""`annexa sample`: a reproducible sample of a population over an audit period, with its evidence."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from agent.cli.bundles import _day
from agent.cli.context import emit_json, open_config, say
from agent.cli.options import ConfigOpt, JsonOpt
from agent.errors import UsageError


def sample(
    population: Annotated[
        str,
        typer.Option(
            "--population",
            help="joiners, leavers, ncs-closed, accounts-created:<system>, accounts-removed:<system>, "
            "privileged-grants:<system>, resources:<source>, ...",
        ),
    ],
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD) of the period.")],
    end: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD) of the period.")],
    size: Annotated[
        int | None, typer.Option("--size", min=1, help="Draw this many (default: the [samples] rule).")
    ] = None,
    seed: Annotated[
        str | None, typer.Option("--seed", help="Rank with this seed (default: the chain head at --to).")
    ] = None,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Draw members of a population by a rule the auditee cannot steer, each with its evidence."""
    from agent.audit.samples import draw

    first, last = _day(start, "--from"), _day(end, "--to")
    assert first is not None and last is not None
    if first > last:
        raise UsageError("--from is after --to")
    if seed is not None and not seed.strip():
        raise UsageError("--seed is empty")
    settings, store, registry = open_config(config, plugins="checks")
    doc = draw(store, registry, settings, population, first, last, size=size, seed=seed)
    if json_out:
        emit_json(doc)
    else:
        _print(doc)


def _print(doc: dict[str, Any]) -> None:
    say(f"{doc['population']}: {doc['title']} ({doc['period']['from']} to {doc['period']['to']})")
    say(
        f"population {doc['population_size']} (digest {doc['digest']}); drew {doc['size']} "
        f"({doc['size_applied']}) with seed {doc['seed']} ({doc['seed_from']})"
    )
    say(f"question: {doc['question']}")
    for member in doc["sample"]:
        say(f"{member['rank']:>3}. {member['label']} [{member['id']}]")
        for key, value in member["answer"].items():
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                say(f"       {key}:")
                for item in value:
                    say(f"         - {_shown(item)}")
            else:
                say(f"       {key}: {_shown(value)}")
        for cited in member["evidence"]:
            say(f"       evidence: {_cited(cited)}")


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_shown(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_shown(v) for v in value) or "none"
    return "-" if value is None else str(value)


def _cited(cited: dict[str, Any]) -> str:
    """A listing's record by file, id and hash (or the listing it is absent from), or an NC's step."""
    if "file" in cited:
        if cited.get("resource_id") is None:
            return f"{cited['file']} (not listed there; observation {cited['observation']})"
        return f"{cited['file']} record {cited['resource_id']} {cited['record']}"
    return _shown(cited)
