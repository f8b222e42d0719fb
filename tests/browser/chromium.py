"""What the real-browser tests share: Debian's Chromium, its flags, and when to skip.

Needs Debian's ``chromium`` (``.ci/install-browser``) and the ``playwright`` package (its own
driver, never its browser download).  A test skips with the reason when either is missing,
unless ``REGLAB_REQUIRE_BROWSER=1``, which turns the skip into a failure (CI).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("REGLAB_CHROMIUM", "/usr/bin/chromium")
#: Headless, and no background connections (this machine's network is closed).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def unavailable(reason: str) -> None:
    """Skip with ``reason``, or fail when ``REGLAB_REQUIRE_BROWSER=1``."""
    if os.environ.get("REGLAB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}; REGLAB_REQUIRE_BROWSER=1 demands the browser test")
    pytest.skip(reason)


def playwright_api() -> tuple[Any, Any]:
    """``(expect, sync_playwright)``, or skip (fail in CI) when Chromium or Playwright is missing."""
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium is not installed at {CHROMIUM} (run .ci/install-browser)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed (see requirements.txt)")
    return expect, sync_playwright
