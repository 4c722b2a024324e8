"""`attest`: manual evidence (a policy, minutes, a report) for a control no API can prove."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.cli.context import emit_json, open_config, say
from agent.cli.options import ActorOpt, ConfigOpt, JsonOpt

MAX_VALID_FOR_DAYS = 3650


def attest(
    control: Annotated[str, typer.Argument(help="Annex A control, e.g. A.5.1.")],
    file: Annotated[Path, typer.Option("--file", help="The evidence (policy, minutes, report).")],
    note: Annotated[str, typer.Option("--note", help="What the file shows.")] = "",
    valid_for: Annotated[
        int | None,
        typer.Option(
            "--valid-for",
            max=MAX_VALID_FOR_DAYS,
            help=f"Days until it must be renewed (at most {MAX_VALID_FOR_DAYS}).",
        ),
    ] = None,
    by: ActorOpt = None,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Store manual evidence for a control no API can prove."""
    import getpass

    from agent.audit.attestations import attest as store_attestation
    from agent.audit.attestations import attestation_document

    _, store, _ = open_config(config, plugins="none")
    row = store_attestation(
        store, control, file, actor=by or getpass.getuser(), note=note, valid_for_days=valid_for
    )
    doc = attestation_document(row)
    if json_out:
        emit_json(doc)
    else:
        say(
            f"attested {control} with {row.filename} (sha256 {row.attachment}), expires {doc['expires_at'] or 'never'}"
        )
