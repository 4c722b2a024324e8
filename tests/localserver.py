"""The lifecycle every local API server of the tests shares: a free loopback port, a daemon thread."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from typing import Self


class LocalServer:
    """Subclasses build `self._server` (any ThreadingHTTPServer) and call `self._listen()`."""

    _server: ThreadingHTTPServer

    def _listen(self, server: ThreadingHTTPServer) -> None:
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
