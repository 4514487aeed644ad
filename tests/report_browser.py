"""Headless Chromium for the report's browser tests: Debian's `chromium` package driven by
Playwright (PyPI), never a browser that Playwright downloads. Without chromium the tests fail
with how to install it, unless RBACTOOL_SKIP_BROWSER=1 asks explicitly to skip them."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
INSTALL = "apt-get install -y --no-install-recommends chromium"


def chromium_path() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


def missing(reason: str):
    if os.environ.get("RBACTOOL_SKIP_BROWSER") == "1":
        pytest.skip(f"{reason} (RBACTOOL_SKIP_BROWSER=1)")
    pytest.fail(f"{reason}: the report's browser tests need it ({INSTALL}; `pip install '.[test]'` for "
                "playwright). Set RBACTOOL_SKIP_BROWSER=1 to skip them explicitly.", pytrace=False)


class Browser:
    """One headless Chromium with a fresh profile; `page()` opens a page that records console
    errors, page errors, dialogs and every request URL."""

    def __init__(self):
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            missing("the Python package playwright is not installed")
        path = chromium_path()
        if path is None:
            missing("chromium is not installed")
        self.profile = tempfile.mkdtemp(prefix="rbactool-chromium-")
        self._pw = sync_playwright().start()
        self.context = self._pw.chromium.launch_persistent_context(
            self.profile, executable_path=path, headless=True, args=ARGS, viewport={"width": 1280, "height": 900})

    def page(self, url: str | None = None, *, width: int = 1280, height: int = 900):
        page = self.context.new_page()
        page.set_viewport_size({"width": width, "height": height})
        page.set_default_timeout(10_000)
        page.errors, page.requests, page.dialogs = [], [], []
        page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.on("request", lambda r: page.requests.append(r.url))

        def on_dialog(d):
            page.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", on_dialog)
        if url:
            page.goto(url)
            page.wait_for_function("document.body.dataset.ready", timeout=30_000)
            assert page.evaluate("document.body.dataset.ready") == "1", page.errors
        return page

    def close(self):
        self.context.close()
        self._pw.stop()
        shutil.rmtree(self.profile, ignore_errors=True)
