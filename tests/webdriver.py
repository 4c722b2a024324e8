"""The dashboard served on loopback and driven by headless Chromium through Selenium and chromedriver.

Offline throughout: Selenium is handed both binaries, so Selenium Manager (which would download a
driver) never runs, and Chromium's own background requests are switched off. The performance log
records every request the pages make, for the tests that prove no page calls out.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from starlette.applications import Starlette

from agent.web.app import Server
from tests.browser import chromedriver, chromium

READY_SECONDS = 30.0  # generous: a busy two-core machine starts uvicorn in well under a second
WINDOW = (1280, 900)  # also the README screenshots' size


@contextmanager
def served(app: Starlette) -> Iterator[str]:
    """The app on 127.0.0.1 at a port the kernel picks (no race for a free one); yields its origin."""
    server = Server(app, "127.0.0.1", 0)
    server.start(within=READY_SECONDS)
    try:
        yield f"http://{server.address}"
    finally:
        server.stop()


@contextmanager
def chrome(profile: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = chromium()
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--disable-extensions", "--disable-quic", "--no-default-browser-check",
        f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--user-data-dir={profile}",
    ):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver()), options=options)
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        yield driver
    finally:
        driver.quit()


@contextmanager
def extra_headers(driver: webdriver.Chrome, headers: dict[str, str]) -> Iterator[None]:
    """Every request the browser makes carries `headers` (a trusted proxy's user header, say)."""
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": headers})
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})


def requested(driver: webdriver.Chrome) -> list[str]:
    """The URL of every request sent since the last call (reading the log empties it)."""
    urls = []
    for entry in _log(driver, "performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = self.server.page.encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads what the browser did, not this server's log."""


@dataclass
class OtherSite:
    """Another origin on the same host (so the same site: the browser still sends the session cookie),
    serving whatever page a test sets."""

    origin: str
    server: ThreadingHTTPServer

    def show(self, html: str) -> str:
        self.server.page = html  # type: ignore[attr-defined]
        return f"{self.origin}/"


@contextmanager
def other_site() -> Iterator[OtherSite]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    server.page = ""  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, name="other-site", daemon=True)
    thread.start()
    try:
        yield OtherSite(f"http://127.0.0.1:{server.server_address[1]}", server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def browser_log(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    """The console's messages (CSP violations among them) since the last call."""
    return _log(driver, "browser")


def _log(driver: webdriver.Chrome, kind: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = driver.get_log(kind)  # type: ignore[no-untyped-call]
    return entries
