"""Headless Chromium, for tests that check what an auditor's browser makes of the HTML report."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def chromium() -> str:
    """The browser's path; skips the test without it, or fails where system deps are required (`make test`)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("ANNEXA_REQUIRE_SYSTEM_DEPS") == "1" or os.environ.get("CI"):
            pytest.fail("chromium is not installed: `make test` installs Debian's chromium package")
        pytest.skip("chromium not installed (make test installs it)")
    return browser


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
