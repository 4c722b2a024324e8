"""The dashboard: `annexa serve`, and inside `annexa run` when `[web] enabled`.

A Starlette app rendering server-side HTML (Jinja2, autoescaped) with no script and no external
asset: charts are SVG drawn on the server, filters and the as-of selector are plain GET forms, and
the only writes are POST forms carrying a CSRF token. Every page reads the store through the same
functions the CLI uses, so it shows what `annexa status`, `controls` and `nc` show.
"""
