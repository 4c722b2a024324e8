"""The ASGI app: routes, the session cookie, the security headers, and serving it with uvicorn."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from agent.config.settings import Settings
from agent.errors import ConfigError
from agent.logs import get_logger
from agent.plugin.registry import Registry
from agent.store import Store
from agent.store.types import utcnow
from agent.web.auth import session_key
from agent.web.context import Web
from agent.web.pages import controls, ncs, overview, period, reviews, runs, session
from agent.web.security import SecurityHeaders

log = get_logger()
STATIC = Path(__file__).parent / "static"


def _routes() -> list[Route | Mount]:
    return [
        Route("/", overview.overview),
        Route("/evidence", overview.evidence),
        Route("/controls", controls.controls),
        Route("/controls/{cid}", controls.control),
        Route("/controls/{cid}/attest", controls.attest_control, methods=["POST"]),
        Route("/ncs", ncs.register),
        Route("/ncs/{ref}", ncs.nonconformity),
        Route("/ncs/{ref}/{action}", ncs.act, methods=["POST"]),
        Route("/runs", runs.runs),
        Route("/runs/{rid}", runs.run),
        Route("/period", period.period),
        Route("/samples", period.samples),
        Route("/reviews", reviews.reviews),
        Route("/reviews", reviews.review, methods=["POST"]),
        Route("/login", session.login, methods=["GET", "POST"]),
        Route("/login/oidc", session.oidc_start),
        Route("/auth/callback", session.oidc_callback, name="oidc_callback"),
        Route("/logout", session.logout, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


async def _internal_error(request: Request, exc: Exception) -> Response:
    """A bug is logged with its type and message, and the page says so in one line."""
    log.error("dashboard_error", path=request.url.path, error=f"{type(exc).__name__}: {exc}")
    return PlainTextResponse("internal error: see the agent's log", status_code=500)


def create_app(
    settings: Settings,
    store: Store,
    registry: Registry,
    token: str | None,
    clock: Callable[[], datetime] = utcnow,
) -> Starlette:
    """The dashboard over `store`; `token` (if any) signs the bootstrap admin in."""
    web_settings = settings.web
    oidc = None
    if web_settings.oidc_issuer:
        from agent.web.oidc import Oidc

        oidc = Oidc(web_settings)
    secure = web_settings.secure_cookies
    app = Starlette(
        routes=_routes(),
        exception_handlers={Exception: _internal_error},
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=session_key(Path(web_settings.session_key_file)),
                session_cookie="__Host-annexa" if secure else "annexa",
                max_age=int(web_settings.session_ttl.total_seconds()),
                same_site="lax",  # the OIDC provider's redirect back is a cross-site navigation
                https_only=secure,
            ),
        ],
    )
    app.state.web = Web(settings, store, registry, token, clock, oidc)
    return app


class Server:
    """uvicorn in a thread of its own (inside `annexa run`), or in the caller's (`annexa serve`)."""

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", access_log=False, lifespan="off",
            server_header=False, proxy_headers=False,
        )  # fmt: skip
        self.server = uvicorn.Server(config)
        self.port = port
        self.address = f"{host}:{port}"
        self._thread: threading.Thread | None = None

    def bind_check(self) -> None:
        """Fail now, as a config error, if the port is taken."""
        import socket

        host, _, port = self.address.rpartition(":")
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            try:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((host, int(port)))
            except OSError as exc:
                raise ConfigError(f"[web] port: cannot listen on {self.address}: {exc.strerror}") from None

    def run(self) -> None:
        self.bind_check()
        log.info("dashboard_listening", address=self.address)
        self.server.run()

    def start(self, within: float = 30.0) -> None:
        """Serve from a thread; returns once uvicorn listens (`address` then names the port bound,
        the kernel's choice for port 0), or fails if it could not within `within` seconds."""
        self.bind_check()
        self._thread = threading.Thread(target=self.server.run, name="dashboard", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + within
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError(f"[web] the dashboard could not start on {self.address}")
            time.sleep(0.01)
        host = self.address.rpartition(":")[0]
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        self.address = f"{host}:{self.port}"
        log.info("dashboard_listening", address=self.address)

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
