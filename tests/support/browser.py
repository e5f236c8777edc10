"""Headless Chromium (Debian's package, never a downloaded browser) driven by Playwright, for Kadi's web pages.

Each browser gets a fresh profile directory. Screenshots go to test-artifacts/ (not in git), for whoever
reads a failure or checks what a page looked like.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.kadi import REPO, Stack

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium() -> str:
    found = shutil.which("chromium")
    if not found:
        pytest.fail("chromium is not installed: run scripts/kadi-stack install (it installs Debian's chromium)")
    return found


@contextmanager
def browser_page(signed_in: requests.Session | None = None, url: str = "", width: int = 1300,
                 height: int = 1400) -> Iterator[Any]:
    """A page in a headless Chromium with a fresh profile; the browser is closed afterwards.

    With `signed_in` (a web session logged in to Kadi at `url`), the browser starts with its cookies, so a
    run logs in once (Kadi allows five logins a minute from one address).
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: run scripts/kadi-stack install (it installs the [test] extra)")
    with tempfile.TemporaryDirectory(prefix="eln-msc-chromium-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=chromium(), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height})
        if signed_in is not None:
            context.add_cookies([{"name": c.name, "value": c.value or "", "url": url} for c in signed_in.cookies])
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def login(page: Any, stack: Stack, username: str = "scientist") -> None:
    """Log in through Kadi's login form, as a person does."""
    password = stack.password(username)
    page.goto(f"{stack.url}/login?tab=local")
    page.fill("#username_local", username)
    page.fill("#password_local", password)
    with page.expect_navigation():
        page.press("#password_local", "Enter")
    assert "/login" not in page.url, f"the login as {username} failed: still on {page.url}"


def screenshot(page: Any, name: str, full_page: bool = True) -> Path:
    """Keep a screenshot (the whole page, or what the window shows) as a test artifact; returns its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def navigations(page: Any) -> list[str]:
    """A list that grows with every main-frame navigation of `page` (to prove the page was not reloaded)."""
    seen: list[str] = []
    page.on("framenavigated", lambda frame: seen.append(frame.url) if frame == page.main_frame else None)
    return seen
