"""Pages of a bundle beside index.html, linked from it: the same stylesheet and Content-Security-Policy
(nothing but that stylesheet may load or run), every value autoescaped."""

from __future__ import annotations

from typing import Any

from agent.bundle.report import _env, _style


def render_page(template: str, **values: Any) -> str:
    """A template extending page.html.j2, given `title` and its own values."""
    style, style_hash = _style()
    return _env.get_template(template).render(style=style, style_hash=style_hash, **values)
