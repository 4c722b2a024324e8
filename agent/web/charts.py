"""Charts as SVG geometry computed here and drawn by the templates: no script, no inline style
(the CSP allows neither), presentation through attributes and the stylesheet's classes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT, PAD = 640, 180, 28


@dataclass(frozen=True)
class Line:
    name: str
    css: str  # the stylesheet class that colours it
    points: str  # SVG polyline points
    last: int


@dataclass(frozen=True)
class Chart:
    lines: list[Line]
    top: int  # the y axis' largest value
    first: str
    last: str
    width: int = WIDTH
    height: int = HEIGHT
    pad: int = PAD


def line_chart(days: Sequence[date], series: Sequence[tuple[str, str, Sequence[int]]]) -> Chart:
    """One polyline per (name, css class, values) over `days`, on a shared y axis from zero."""
    top = max([1, *(v for _, _, values in series for v in values)])
    span = max(len(days) - 1, 1)

    def x(i: int) -> float:
        return PAD + i * (WIDTH - 2 * PAD) / span

    def y(v: int) -> float:
        return HEIGHT - PAD - v * (HEIGHT - 2 * PAD) / top

    lines = [
        Line(
            name,
            css,
            " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values)),
            values[-1] if values else 0,
        )
        for name, css, values in series
    ]
    return Chart(lines, top, days[0].isoformat() if days else "", days[-1].isoformat() if days else "")


@dataclass(frozen=True)
class Bar:
    label: str
    css: str
    count: int
    x: float
    width: float


def stacked_bar(parts: Sequence[tuple[str, str, int]], width: int = WIDTH) -> list[Bar]:
    """One horizontal bar split by (label, css class, count), each part as wide as its share."""
    total = sum(n for _, _, n in parts) or 1
    bars, at = [], 0.0
    for label, css, n in parts:
        w = width * n / total
        bars.append(Bar(label, css, n, at, w))
        at += w
    return bars
