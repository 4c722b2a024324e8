"""`annexa serve`: the dashboard on the store, until interrupted."""

from __future__ import annotations

from typing import Annotated

import typer

from agent.cli.context import open_config, say
from agent.cli.options import ConfigOpt


def serve(
    host: Annotated[
        str | None, typer.Option("--host", help="Listen here (default: [web] host, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65535, help="Listen on this port (default: [web] port, 8470)."),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Serve the dashboard: controls, nonconformities, evidence, runs and the audit period.

    Sign in with OIDC, a trusted proxy's header ([web]), or the admin token: the one in
    [web] admin_token_env, else a new one printed here (on this terminal, never in a log)."""
    from agent.web.app import Server, create_app
    from agent.web.auth import configured_token, new_token

    settings, store, registry = open_config(config)
    web = settings.web
    token = configured_token(web)
    made = token is None
    token = token or new_token()
    server = Server(create_app(settings, store, registry, token), host or web.host, port or web.port)
    server.bind_check()
    say(f"Annexa dashboard: http://{server.address}/ (Ctrl-C stops it)")
    if made:
        say(f"Sign in with the admin token {token}")
    server.run()
