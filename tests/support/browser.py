"""Playwright on Debian's Chromium (scripts/ensure-system-deps.sh installs it; Playwright's
own browser download is never used), headless, with a fresh profile per browser."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import BrowserContext, sync_playwright

CHROMIUM = "/usr/bin/chromium"
_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[BrowserContext]:
    with tempfile.TemporaryDirectory(prefix="iamd-chromium-") as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=_FLAGS, headless=True
        )
        try:
            yield context
        finally:
            context.close()
