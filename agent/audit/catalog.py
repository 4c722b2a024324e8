"""The Annex A 2022 catalog (93 controls), shipped in config/ and validated when loaded."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache

from agent.errors import ConfigError
from agent.plugin.registry import CONTROL_RE
from agent.resources import config_file

CATALOG_FILE = "annex_a_2022.csv"
THEMES = {"organizational": "5", "people": "6", "physical": "7", "technological": "8"}
EXPECTED = {"5": 37, "6": 8, "7": 14, "8": 34}


@dataclass(frozen=True)
class Control:
    id: str
    theme: str
    title: str


def parse_catalog(text: str, origin: str) -> dict[str, Control]:
    controls: dict[str, Control] = {}
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames != ["id", "theme", "title"]:
        raise ConfigError(f"{origin}: header must be id,theme,title")
    for line, row in enumerate(reader, start=2):
        cid, theme, title = row["id"], row["theme"], (row["title"] or "").strip()
        if not CONTROL_RE.match(cid or "") or theme not in THEMES or not title:
            raise ConfigError(f"{origin}:{line}: malformed control row {row!r}")
        if cid.split(".")[1] != THEMES[theme]:
            raise ConfigError(f"{origin}:{line}: control {cid} does not belong to theme {theme}")
        if cid in controls:
            raise ConfigError(f"{origin}:{line}: control {cid} listed twice")
        controls[cid] = Control(cid, theme, title)
    counts = {clause: sum(1 for c in controls if c.split(".")[1] == clause) for clause in EXPECTED}
    if counts != EXPECTED or len(controls) != 93:
        raise ConfigError(f"{origin}: expected the 93 controls of ISO/IEC 27001:2022 Annex A, got {counts}")
    return controls


def _sort_key(cid: str) -> tuple[int, int]:
    _, clause, number = cid.split(".")
    return int(clause), int(number)


@cache
def annex_a() -> dict[str, Control]:
    text, origin = config_file(CATALOG_FILE)
    parsed = parse_catalog(text, origin)
    return {cid: parsed[cid] for cid in sorted(parsed, key=_sort_key)}
