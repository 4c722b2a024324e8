"""Headless Chromium, for tests that check what an auditor's browser makes of the HTML report."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def _required(found: str | None, what: str, package: str) -> str:
    """`found`, else skip the test, or fail it where system deps are required (`make test`)."""
    if found is None:
        if os.environ.get("ANNEXA_REQUIRE_SYSTEM_DEPS") == "1" or os.environ.get("CI"):
            pytest.fail(f"{what} is not installed: `make test` installs Debian's {package} package")
        pytest.skip(f"{what} not installed (make test installs it)")
    return found


def chromium() -> str:
    """The browser's path."""
    return _required(shutil.which("chromium") or shutil.which("chromium-browser"), "chromium", "chromium")


def chromedriver() -> str:
    """The WebDriver server matching Debian's chromium (Selenium is given it: no download)."""
    return _required(shutil.which("chromedriver"), "chromedriver", "chromium-driver")


def headless(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Open `page` offline; the page's console (CSP violations included) is logged on stderr."""
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}",
    ]  # fmt: skip
    return subprocess.run(
        [chromium(), *flags, *args, page.as_uri()], check=True, capture_output=True, text=True, timeout=120
    )
