"""Options several commands share, declared once so their flags and help read the same everywhere.

Typer reads these from the command signatures at startup, so this module imports nothing heavy:
`Severity` comes from `agent.plugin.model`, which needs only the standard library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.plugin.model import Severity

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Config file (else $ANNEXA_CONFIG, else ./annexa.toml).", dir_okay=True
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout and nothing else.")]
FailOnOpt = Annotated[
    Severity | None,
    typer.Option(
        "--fail-on", help="Exit 1 if a check of this severity or higher fails or cannot be evaluated."
    ),
]
ShardOpt = Annotated[
    str | None,
    typer.Option(
        "--shard",
        metavar="K/N",
        help="Only this agent's share of the targets: agent K of N sharing one store.",
    ),
]
SourceOpt = Annotated[
    list[str] | None, typer.Option("--source", "-s", help="Only these sources (glob, repeatable).")
]
ActorOpt = Annotated[str | None, typer.Option("--by", help="Who is acting (default: the OS user).")]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="TIMESTAMP",
        help="As the store had proven it then: an ISO 8601 date (its end, UTC) or timestamp (UTC if no zone).",
    ),
]
