"""What a benchmark's moto served, recorded, then served again without moto.

bench/aws_org.py compares `annexa collect` with "the same calls, made one after the other": not a
hand-written list of calls that drifts from what the collectors do, but every request the collect
sent, replayed in order over one kept-alive connection.

Both are timed against moto's recorded answers, not against moto: moto answers on one core (its
threads share one GIL, ~2-4 ms of CPU per S3 request), so a collect against it measures moto,
whose CPU alone is a floor under any client's wall time, however concurrent. A cloud API answers
each caller on its own hardware; the replaying server spends microseconds per answer and waits
the simulated round trip, so what is left to measure is the client. The recording run's own
figures (its time, moto's CPU) are printed beside, for reference.
"""

from __future__ import annotations

import http.client
import io
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from bench.loopback import loopback_server

# SigV4: Credential=<key id>/<date>/<region>/<service>/aws4_request
_SCOPE = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
# Recomputed or meaningless when an answer is served again.
_HOP_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "date", "server", "keep-alive"}
)


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path and query
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


# method, target, body, X-Amz-Target, and the signer's key id, region and service (not the date)
Key = tuple[str, str, bytes, str, str]


def key_of(method: str, target: str, body: bytes, headers: Mapping[str, str]) -> Key:
    """What identifies a request across runs: the same call, by the same credentials, in the same region."""
    scope = _SCOPE.search(headers.get("authorization", ""))
    signer = "/".join(scope.groups()) if scope else ""
    return (method, target, body, headers.get("x-amz-target", ""), signer)


@dataclass
class Traffic:
    """Requests served and the most in flight at once, per AWS service (read from the SigV4 scope)."""

    served: Counter[str] = field(default_factory=Counter)
    peak: Counter[str] = field(default_factory=Counter)
    _in_flight: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def serving(self, authorization: str) -> Iterator[None]:
        scope = _SCOPE.search(authorization)
        service = scope.group(3) if scope else "unsigned"
        with self._lock:
            self.served[service] += 1
            self._in_flight[service] += 1
            self.peak[service] = max(self.peak[service], self._in_flight[service])
        try:
            yield
        finally:
            with self._lock:
                self._in_flight[service] -= 1


@dataclass
class Recorder:
    """WSGI middleware: while `on`, keeps every request and its answer, the traffic, and the
    server's CPU seconds (thread time: the simulated latency's sleep is not CPU)."""

    on: bool = False
    requests: list[Request] = field(default_factory=list)
    answers: dict[Key, list[Answer]] = field(default_factory=dict)
    traffic: Traffic = field(default_factory=Traffic)
    server_cpu: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def recorded(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            if not self.on:
                return app(environ, start_response)
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            request = _request(environ, body)
            status: list[Any] = []

            def capture(line: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
                status[:] = [int(line.split(maxsplit=1)[0]), tuple(headers)]
                return start_response(line, headers, *exc)

            started = time.thread_time()
            with self.traffic.serving(environ.get("HTTP_AUTHORIZATION", "")):
                try:
                    chunks = list(app(environ, capture))
                except Exception:  # an API moto lacks: answered, and recorded, as a 500
                    chunks = [b"Internal Server Error"]
                    capture("500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")])
            answer = Answer(status[0], status[1], b"".join(chunks))
            key = key_of(request.method, request.target, body, {k.lower(): v for k, v in request.headers})
            with self._lock:
                self.requests.append(request)
                self.answers.setdefault(key, []).append(answer)
                self.server_cpu += time.thread_time() - started
            return chunks

        return recorded


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


@dataclass
class Replayer:
    """Serves recorded answers: a key's answers in the order they were recorded, its last one for
    any further asking (credentials from a repeated AssumeRole come back in the order the collect
    used them). A request never recorded is a miss, answered 599, so a diverging run shows."""

    answers: dict[Key, list[Answer]]
    latency: float
    traffic: Traffic = field(default_factory=Traffic)
    misses: list[Key] = field(default_factory=list)
    _asked: Counter[Key] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, key: Key) -> Answer:
        with self._lock:
            recorded = self.answers.get(key)
            if recorded is None:
                self.misses.append(key)
                return Answer(599, (("Content-Type", "text/plain"),), b"not recorded")
            turn = self._asked[key]
            self._asked[key] += 1
        return recorded[min(turn, len(recorded) - 1)]

    def rewind(self) -> None:
        """Start every key's answers again from the first, with fresh traffic figures."""
        with self._lock:
            self._asked.clear()
            self.traffic = Traffic()


def _handler(replayer: Replayer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as botocore's pool expects
        # One send per answer, unbuffered by Nagle: headers and body written apart would wait ~40 ms
        # for the client's delayed ACK, more than the round trip being simulated.
        wbufsize = -1
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with replayer.traffic.serving(headers.get("authorization", "")):
                time.sleep(replayer.latency)  # waiting, not work, as on a network
                answer = replayer.answer(key_of(self.command, self.path, body, headers))
            self.send_response(answer.status)
            for name, value in answer.headers:
                if name.lower() not in _HOP_HEADERS:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the benchmark prints its own figures."""

    return Handler


@contextmanager
def replaying(answers: dict[Key, list[Answer]], latency: float) -> Iterator[tuple[str, Replayer]]:
    """A loopback server answering from `answers` after `latency` seconds; yields its URL and state."""
    replayer = Replayer(answers, latency)
    with loopback_server(_handler(replayer)) as url:
        yield url, replayer


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
