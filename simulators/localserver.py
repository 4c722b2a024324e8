"""What every simulated API server shares (the tests' and the demo's): a loopback port served from a
daemon thread, and the HTTP plumbing around the API itself.

`LocalServer` parses each request into a `Request`, counts it in `hits`, notes the credential it
carried, tracks how many are being answered at once (its `pace` can hold them until `gather` are,
so a test sees a client's concurrency without timing), checks the one credential the API accepts,
answers with an injected `Fault` while one is due, and otherwise asks the subclass's `route` for a
`Reply`, written as JSON (a `str` payload is sent verbatim: a page, a redirect's empty body). A
subclass says only what is its API's own: its routes, its error document, which faults apply to a
request, which credential it wants and how it refuses a wrong one.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Protocol, Self

GATHER_TIMEOUT = 60  # a safety net only: a client with the concurrency asked for gets there at once


@dataclass
class Fault:
    """An answer given instead of the real one, to `times` requests (None: every one).

    It is `status`, with `Retry-After: retry_after` when that is set, and `body` when that is set (a
    `str` verbatim: an HTML gateway page, malformed JSON; else as JSON: a document the API's own error
    document cannot say), else the API's own error document with `message`.
    """

    status: int
    message: str = "injected fault"
    times: int | None = None
    body: Any = None
    retry_after: str | None = None

    def take(self) -> bool:
        """Whether this fault answers one more request, counting that one if so."""
        if self.times is None:
            return True
        if self.times <= 0:
            return False
        self.times -= 1
        return True


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # percent-decoded, without the query
    query: dict[str, str]  # the last value of each parameter, blank ones kept
    query_string: str  # as sent
    body: bytes
    headers: Message

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def form(self) -> dict[str, str]:
        """The body's fields when it is form-encoded (an OAuth token request, a Web API call)."""
        return dict(urllib.parse.parse_qsl(self.body.decode(errors="replace"), keep_blank_values=True))


@dataclass
class Reply:
    status: int
    payload: Any = None  # encoded as JSON; a str is sent as it is
    headers: dict[str, str] = field(default_factory=dict)


class Pace(Protocol):
    """How a server paces its answers; a test may change it while the server runs."""

    gather: int  # hold each request until this many are being answered at once
    latency: float  # seconds each answer takes (the benchmark's stand-in for a real round trip)


@dataclass
class Pacing:
    gather: int = 0
    latency: float = 0.0


def basic(user: str, password: str) -> str:
    """The `Authorization` header of HTTP basic auth."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class LocalServer:
    """Subclasses set what they serve, call `super().__init__()` and implement `route`.

    `pace` (by default: no holding, no latency) is read on every request, so a test can change it.
    """

    methods: ClassVar[tuple[str, ...]] = ("GET", "POST")
    extra_headers: ClassVar[dict[str, str]] = {}  # sent with every answer

    def __init__(self, pace: Pace | None = None) -> None:
        self.pace: Pace = pace if pace is not None else Pacing()
        self.lock = threading.Condition()
        self.hits: Counter[str] = Counter()
        self.authorizations: set[str] = set()
        self.inflight = self.max_inflight = 0  # the most requests answered at once, so far
        self._server = _HTTPServer(self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    # --- what a server says of its API ------------------------------------------------------------
    def route(self, request: Request) -> Reply:
        raise NotImplementedError

    def error(self, status: int, message: str) -> Reply:
        """The API's error document."""
        return Reply(status, {"error": message})

    def credential(self) -> str | None:
        """The `Authorization` header every request must carry (None: any or none)."""
        return None

    def faults_for(self, request: Request) -> Iterable[Fault]:
        """The faults that may answer `request`, the first one due answering."""
        return ()

    def unauthorized(self) -> Reply:
        return self.error(401, "unauthorized")

    def content_type(self, reply: Reply) -> str:
        return "text/html" if isinstance(reply.payload, str) else "application/json"

    def hit_key(self, request: Request) -> str:
        """What `hits` counts a request under."""
        return request.key

    def record(self, request: Request) -> None:
        """Note a request as it arrives (under the lock), for a test to look at."""

    def now(self) -> float:
        """The server's clock, which its `Date` header shows (an API may freeze it for its tests)."""
        return time.time()

    # --- answering ----------------------------------------------------------------------------
    def serve(self, request: Request) -> Reply:
        with self.lock:
            self.hits[self.hit_key(request)] += 1
            self.authorizations.add(request.headers.get("Authorization", ""))
            self.record(request)
            self.inflight += 1
            self.max_inflight = max(self.max_inflight, self.inflight)
            self.lock.notify_all()
            if not self.lock.wait_for(lambda: self.max_inflight >= self.pace.gather, GATHER_TIMEOUT):
                self.pace.gather = 0  # the client never got there: stop holding, its test fails
        try:
            if self.pace.latency:
                time.sleep(self.pace.latency)
            return self.answer(request)
        finally:
            with self.lock:
                self.inflight -= 1

    def answer(self, request: Request) -> Reply:
        if request.method not in self.methods:
            return self.error(405, "method not allowed")
        credential = self.credential()
        if credential is not None and request.headers.get("Authorization") != credential:
            return self.unauthorized()
        fault = self._due_fault(request)
        if fault is None:
            return self.route(request)
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        if fault.body is not None:
            return Reply(fault.status, fault.body, headers)
        reply = self.error(fault.status, fault.message)
        reply.headers.update(headers)
        return reply

    def _due_fault(self, request: Request) -> Fault | None:
        with self.lock:
            return next((f for f in self.faults_for(request) if f.take()), None)

    # --- lifecycle ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        """Serves from now on; the port is bound and listening already, so no one waits for it."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """No longer serves (again: a no-op), so a client meets a refused connection."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, api: LocalServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api = api


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real front ends
    disable_nagle_algorithm = True  # headers and body go out in two writes: no delayed-ACK stalls
    server: _HTTPServer

    def log_message(self, *args: object) -> None:
        pass

    def date_time_string(self, timestamp: float | None = None) -> str:
        return super().date_time_string(self.server.api.now() if timestamp is None else timestamp)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        api = self.server.api
        length = int(self.headers.get("Content-Length") or 0)
        url = urllib.parse.urlsplit(self.path)
        request = Request(
            method=self.command,
            path=urllib.parse.unquote(url.path),
            query=dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True)),
            query_string=url.query,
            body=self.rfile.read(length) if length else b"",
            headers=self.headers,
        )
        reply = api.serve(request)
        raw = (reply.payload if isinstance(reply.payload, str) else json.dumps(reply.payload)).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", api.content_type(reply))
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (api.extra_headers | reply.headers).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)
