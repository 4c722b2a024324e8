"""What a benchmark's moto served, recorded to be replayed one request at a time.

The baseline of bench/aws_org.py is "the same calls, made one after the other": not a hand-written
list of calls that drifts from what the collectors do, but every request `annexa collect` sent,
replayed in order over one kept-alive connection. It also records, per AWS service (read from the
SigV4 credential scope), how many requests were in flight at once, and the CPU time moto spent
answering: moto answers on one core (its threads share one GIL), so that time is a floor under any
client's wall time, however concurrent.
"""

from __future__ import annotations

import http.client
import io
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path and query
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass
class Recorder:
    """WSGI middleware: while `on`, keeps every request, the peak in flight per service and the
    server's CPU seconds (thread time: the simulated latency's sleep is not CPU)."""

    on: bool = False
    requests: list[Request] = field(default_factory=list)
    peak: Counter[str] = field(default_factory=Counter)
    served: Counter[str] = field(default_factory=Counter)
    server_cpu: float = 0.0
    _in_flight: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def recorded(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            if not self.on:
                return app(environ, start_response)
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            service = _service(environ.get("HTTP_AUTHORIZATION", ""))
            with self._lock:
                self.requests.append(_request(environ, body))
                self.served[service] += 1
                self._in_flight[service] += 1
                self.peak[service] = max(self.peak[service], self._in_flight[service])
            started = time.thread_time()
            try:
                return list(app(environ, start_response))
            finally:
                with self._lock:
                    self._in_flight[service] -= 1
                    self.server_cpu += time.thread_time() - started

        return recorded


def _service(authorization: str) -> str:
    found = _SCOPE.search(authorization)
    return found.group(1) if found else "unsigned"


def _request(environ: dict[str, Any], body: bytes) -> Request:
    headers = [(k[5:].replace("_", "-").title(), str(v)) for k, v in environ.items() if k.startswith("HTTP_")]
    if environ.get("CONTENT_TYPE"):
        headers.append(("Content-Type", environ["CONTENT_TYPE"]))
    query = environ.get("QUERY_STRING")
    target = (
        environ.get("RAW_URI")
        or environ.get("REQUEST_URI")
        or environ["PATH_INFO"] + (f"?{query}" if query else "")
    )
    return Request(environ["REQUEST_METHOD"], target, tuple(headers), body)


def replay(endpoint: str, requests: list[Request]) -> float:
    """Seconds to send `requests` one at a time, each answer read whole before the next is sent."""
    host, port = endpoint.split("://", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    started = time.perf_counter()
    try:
        for req in requests:
            conn.request(req.method, req.target, body=req.body or None, headers=dict(req.headers))
            conn.getresponse().read()
    finally:
        conn.close()
    return time.perf_counter() - started
