"""`review`: a person's accept or reject of an exported bundle, sealed in the chain."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from agent.cli.context import emit_json, open_config, say
from agent.cli.options import ConfigOpt, JsonOpt


class Decision(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"


def review(
    bundle: Annotated[Path, typer.Argument(help="The bundle (.zip) reviewed.")],
    decision: Annotated[Decision, typer.Option("--decision", help="accept or reject.")],
    by: Annotated[str, typer.Option("--by", help="Who reviewed it: not who exported it.")],
    note: Annotated[str, typer.Option("--note", help="What was reviewed, and why this decision.")],
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Record a decision on a bundle, bound to its manifest's SHA-256; later bundles carry it.

    Refused (exit 1) if the bundle does not verify under this agent's key; refused (exit 2) if the
    reviewer is who exported it or the bundle is not of this store's chain."""
    from agent.bundle.review import review_bundle, review_document

    _, store, _ = open_config(config, plugins="none")
    row = review_bundle(store, bundle, decision=decision.value, actor=by, note=note)
    doc = review_document(row)
    if json_out:
        emit_json(doc)
    else:
        say(
            f"{by} {decision.value}ed {bundle} (manifest sha256 {row.bundle_digest}, chain head "
            f"{row.bundle_head}), exported by {row.exporter}; sealed as entry {row.run_id}"
        )
