"""Headless Chromium for tests of the pages apgraph ships (GraphiQL; later the dashboard).

Debian's `chromium` (`apt-get install chromium`, done by `.ci/run`), driven by playwright
from PyPI with `executable_path`: playwright never downloads a browser. Pages open offline:
every request to a host other than the server under test is refused and recorded, so a
test can assert the page needed none. Without the browser a test skips with the reason;
under CI=true it fails instead.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path(os.environ.get("APGRAPH_TEST_CHROMIUM", "/usr/bin/chromium"))
IN_CI = os.environ.get("CI", "").lower() == "true"
# Chromium as root needs --no-sandbox; the rest keep it from calling home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"browser tests must run under CI=true: {reason}")
    pytest.skip(reason)


def _check_chromium() -> None:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found (apt-get install chromium)")


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[object]:
    """One headless Chromium for the session (a playwright Browser)."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    _check_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class OfflinePage:
    """A page that may reach `origin` only; `refused` lists whatever else it asked for."""

    page: object
    origin: str
    refused: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@asynccontextmanager
async def offline_page(browser: object, origin: str) -> AsyncIterator[OfflinePage]:
    """A fresh browser context (no stored state) whose network ends at `origin`."""
    context = await browser.new_context(service_workers="block")  # type: ignore[attr-defined]
    page = await context.new_page()
    opened = OfflinePage(page=page, origin=origin)
    allowed = urlsplit(origin)

    async def only_the_server(route) -> None:  # type: ignore[no-untyped-def]
        url = urlsplit(route.request.url)
        if (url.scheme, url.netloc) == (allowed.scheme, allowed.netloc) or url.scheme == "data":
            await route.continue_()
        else:
            opened.refused.append(route.request.url)
            await route.abort("internetdisconnected")

    await context.route("**/*", only_the_server)
    page.on(
        "console",
        lambda message: (
            opened.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: opened.console_errors.append(str(error)))
    try:
        yield opened
    finally:
        await context.close()
