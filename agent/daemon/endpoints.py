"""The daemon's HTTP side: `/healthz` (alive), `/readyz` (can work), `/metrics` (Prometheus).

A plain threading HTTP server: three read-only endpoints do not justify a web framework, and
prometheus-client renders the exposition format itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from agent.errors import ConfigError
from agent.logs import get_logger

log = get_logger()

# Each probe returns (ok, reason); the reason is the response body.
Probe = Callable[[], tuple[bool, str]]


class Endpoints:
    def __init__(self, host: str, port: int, registry: CollectorRegistry, live: Probe, ready: Probe) -> None:
        routes: dict[str, Callable[[], tuple[int, str, bytes]]] = {
            "/healthz": lambda: _probe(live),
            "/readyz": lambda: _probe(ready),
            "/metrics": lambda: (200, CONTENT_TYPE_LATEST, generate_latest(registry)),
        }

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                route = routes.get(self.path.split("?", 1)[0])
                code, content_type, body = route() if route else (404, "text/plain", b"not found\n")
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Probes every few seconds would drown the log: stay quiet."""

        try:
            self.server = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            raise ConfigError(f"[daemon] port: cannot listen on {host}:{port}: {exc.strerror}") from None
        self.server.daemon_threads = True
        self.address = f"{host}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="http", daemon=True)

    def start(self) -> None:
        self._thread.start()
        log.info("endpoints_listening", address=self.address, paths="/healthz /readyz /metrics")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _probe(probe: Probe) -> tuple[int, str, bytes]:
    try:
        ok, reason = probe()
    except Exception as exc:  # a probe that cannot answer is a failing probe
        ok, reason = False, f"{type(exc).__name__}: {exc}"
    return (200 if ok else 503), "text/plain; charset=utf-8", f"{reason}\n".encode()
