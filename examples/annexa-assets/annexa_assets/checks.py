"""Importing this module (the `annexa.checks` entry point) declares the check."""

from __future__ import annotations

from collections.abc import Iterator

from agent.plugin import Evidence, Result, check


@check(
    "assets.inventory.owned",
    title="Every asset in the inventory has an owner",
    controls={"A.5.9": "An inventory whose assets each have an owner is what the control asks for."},
    severity="minor",
    needs=["assets.inventory.items"],
    rationale="An asset nobody owns is an asset nobody protects, reviews or retires.",
    remediation="Name an owner for the asset in the inventory.",
)
def owned(ev: Evidence) -> Iterator[Result]:
    for asset in ev.records("assets.inventory.items"):
        yield Result.of(asset, passed=bool(asset.data["owner"]), reason=f"{asset.data['id']} has no owner")
