"""A loopback HTTP proxy in front of moto that injects real AWS error responses.

boto3 is pointed at the proxy with AWS_ENDPOINT_URL; requests for a faulted operation (the
query protocol's `Action=`, or the JSON protocol's X-Amz-Target) get the configured answer,
everything else is forwarded to moto unchanged. A fault can hold its requests until the test
sets an event, and the test can wait until a request has arrived: overlaps are staged on
events, never on how long a process takes to start.
"""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ERROR_XML = (
    '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>{kind}</Type>'
    "<Code>{code}</Code><Message>{message}</Message></Error><RequestId>4f1b7d2e-fault</RequestId></ErrorResponse>"
)
# Only so that nothing hangs forever: beyond pytest's per-test timeout (240 s), so a hold never
# expires under a running test, and nothing waits this long when the product works.
SAFETY_TIMEOUT = 300


@dataclass
class Fault:
    status: int = 500
    code: str = "ServiceFailure"
    message: str = "Internal failure"
    times: int | None = None  # None: always; N: only the first N requests
    hold: threading.Event | None = None  # answer (or forward, with status 0) only once it is set


@dataclass
class FaultProxy:
    upstream: str
    faults: dict[str, Fault] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._arrivals = threading.Condition()
        parsed = urllib.parse.urlparse(self.upstream)
        self._upstream = (parsed.hostname, parsed.port)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                op = proxy.operation(self.headers.get("X-Amz-Target", ""), body, self.path)
                with proxy._arrivals:
                    hit = proxy.hits[op] = proxy.hits.get(op, 0) + 1
                    proxy._arrivals.notify_all()
                fault = proxy.faults.get(op)
                if fault is not None and (fault.times is None or hit <= fault.times):
                    if fault.hold is not None and not fault.hold.wait(SAFETY_TIMEOUT):
                        self.close_connection = True  # never released: drop it rather than hang
                        return
                    if fault.status:
                        kind = "Sender" if fault.status < 500 else "Receiver"
                        payload = ERROR_XML.format(kind=kind, code=fault.code, message=fault.message).encode()
                        self.send_response(fault.status)
                        self.send_header("Content-Type", "text/xml")
                        self.send_header("Content-Length", str(len(payload)))
                        self.end_headers()
                        self.wfile.write(payload)
                        return
                try:
                    self._forward(body)
                except OSError:
                    self.close_connection = True  # upstream gone (the test is over)

            def _forward(self, body: bytes) -> None:
                conn = http.client.HTTPConnection(*proxy._upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for key, value in resp.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @staticmethod
    def operation(target: str, body: bytes, path: str) -> str:
        if target:
            return target.rsplit(".", 1)[-1]
        params = urllib.parse.parse_qs(body.decode(errors="replace")) or urllib.parse.parse_qs(
            urllib.parse.urlparse(path).query
        )
        return params.get("Action", [path])[0]

    def arrived(self, op: str) -> None:
        """Wait until a request for `op` has reached the proxy (a held one included)."""
        with self._arrivals:
            if not self._arrivals.wait_for(lambda: op in self.hits, SAFETY_TIMEOUT):
                raise AssertionError(f"no {op} request reached the proxy in {SAFETY_TIMEOUT} s")

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for fault in self.faults.values():
            if fault.hold is not None:
                fault.hold.set()  # held requests end with the test, whatever it asserted
        self._server.shutdown()
        self._server.server_close()
