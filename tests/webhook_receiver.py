"""Local HTTP receivers for notification tests, and the generic webhook receiver itself.

`Receiver` is a `LocalServer` taking POSTs that records every request and answers it from a script
of faults first (`fail`: a status, a Retry-After, a body), else as the real service would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, ClassVar

from simulators.localserver import Fault, LocalServer, Reply, Request


class Receiver(LocalServer):
    """A service that is only ever posted to; subclasses say how the real one answers (`route`)."""

    methods: ClassVar[tuple[str, ...]] = ("POST",)

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        super().__init__()

    def fail(self, *faults: Fault) -> None:
        """Answer the next requests with these, in order (each for its `times`), then normally again."""
        with self.lock:
            self.faults.extend(faults)

    def faults_for(self, request: Request) -> list[Fault]:
        return self.faults

    def record(self, request: Request) -> None:
        self.requests.append(request)


class WebhookReceiver(Receiver):
    """A receiver of Annexa's signed webhooks, verifying them as the documentation tells receivers to:
    HMAC-SHA256 over "<timestamp>.<body>", a timestamp within five minutes, each delivery once."""

    TOLERANCE = 300

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret
        self.accepted: list[dict[str, Any]] = []
        self.deliveries: set[str] = set()

    def route(self, request: Request) -> Reply:
        stamp = request.headers.get("X-Annexa-Timestamp", "")
        expected = hmac.new(self.secret.encode(), f"{stamp}.".encode() + request.body, hashlib.sha256)
        given = request.headers.get("X-Annexa-Signature", "")
        if not hmac.compare_digest(given, f"sha256={expected.hexdigest()}"):
            return self.error(401, "bad signature")
        if not stamp.isdigit() or abs(self.now() - int(stamp)) > self.TOLERANCE:
            return self.error(401, "stale timestamp")
        delivery = request.headers.get("X-Annexa-Delivery", "")
        with self.lock:  # a retry of a delivery already taken is acknowledged only
            if delivery not in self.deliveries:
                self.deliveries.add(delivery)
                self.accepted.append(json.loads(request.body))
        return Reply(204, "")
