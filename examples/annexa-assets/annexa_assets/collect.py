"""Importing this module (the `annexa.collectors` entry point) declares the targets and the collector."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from agent.plugin import CollectorError, Record, collector, scope_kind
from annexa_assets.settings import AssetSettings


@dataclass(frozen=True)
class Inventory:
    """The one target: the export `[assets] path` names."""

    path: Path

    @property
    def scope(self) -> str:
        return f"assets:{self.path.stem}"


@scope_kind("assets_inventory", system="assets")
def inventories(settings: AssetSettings) -> Iterator[Inventory]:
    yield Inventory(Path(settings.path))


@collector(
    "assets.inventory.items",
    scope="assets_inventory",
    freshness=timedelta(days=1),
    permissions=["read access to the inventory export"],
)
def items(inventory: Inventory) -> Iterator[Record]:
    """One record per asset, with only the fields the check needs."""
    try:
        assets = json.loads(inventory.path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CollectorError(f"{inventory.path}: cannot read the inventory: {exc}") from None
    if not isinstance(assets, list):
        raise CollectorError(f"{inventory.path}: expected a JSON list of assets")
    for asset in assets:
        yield Record(str(asset["id"]), {"id": str(asset["id"]), "owner": str(asset.get("owner") or "")})
