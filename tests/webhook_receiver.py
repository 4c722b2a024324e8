"""Local HTTP receivers for notification tests, and the generic webhook receiver itself.

`Receiver` serves on a free loopback port in a thread, records every request and answers it from
a script of faults first (status, Retry-After), else as the real service would. The server is
bound and listening before `start` returns, so no test waits for it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_json(cls, status: int, document: Any, **headers: str) -> Answer:
        return cls(status, json.dumps(document).encode(), {"Content-Type": "application/json", **headers})


class Receiver:
    """A threaded loopback server; subclasses say how the real service answers (`answer`)."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.faults: list[Answer] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                request = Request("POST", self.path, dict(self.headers.items()), self.rfile.read(length))
                reply = receiver._reply(request)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()

    def fail(self, *answers: Answer) -> None:
        """Answer the next requests with these, in order, before answering normally again."""
        with self._lock:
            self.faults.extend(answers)

    def _reply(self, request: Request) -> Answer:
        with self._lock:
            self.requests.append(request)
            if self.faults:
                return self.faults.pop(0)
        return self.answer(request)

    def answer(self, request: Request) -> Answer:
        raise NotImplementedError


class WebhookReceiver(Receiver):
    """A receiver of Annexa's signed webhooks, verifying them as the documentation tells receivers to:
    HMAC-SHA256 over "<timestamp>.<body>", a timestamp within five minutes, each delivery once."""

    TOLERANCE = 300

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret
        self.accepted: list[dict[str, Any]] = []
        self.deliveries: set[str] = set()

    def answer(self, request: Request) -> Answer:
        headers = {k.lower(): v for k, v in request.headers.items()}
        stamp = headers.get("x-annexa-timestamp", "")
        expected = hmac.new(self.secret.encode(), f"{stamp}.".encode() + request.body, hashlib.sha256)
        given = headers.get("x-annexa-signature", "")
        if not hmac.compare_digest(given, f"sha256={expected.hexdigest()}"):
            return Answer.of_json(401, {"error": "bad signature"})
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > self.TOLERANCE:
            return Answer.of_json(401, {"error": "stale timestamp"})
        delivery = headers["x-annexa-delivery"]
        if delivery not in self.deliveries:  # a retry of a delivery already taken is acknowledged only
            self.deliveries.add(delivery)
            self.accepted.append(request.json())
        return Answer(204)
