"""Browser tests: the app started with the README's run command, driven in headless Chromium.

The server is started once per run through `scripts/run_app.sh` (the exact command the README
gives), on a free port, and stopped at the end. Each test gets a fresh browser context (no
cookies, no session), like a collaborator opening a shared link.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from bench.app_server import APP_IDLE, CHARTS_DRAWN, WIDGETS_DRAWN, ScriptRuns, start_app_server, stop_app_server

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


@pytest.fixture(scope="session")
def app_url():
    """The demo cohort (no BALL_COHORT_DB), as documented."""
    process, url = start_app_server(ROOT / "artifacts" / "e2e-server.log", timeout=120)
    yield url
    stop_app_server(process)


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed: browser tests cannot be skipped in CI")
        pytest.skip("Chromium is not installed (scripts/ensure_chromium.sh installs it)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A page in a fresh context (no shared session), large enough for a projector layout."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    ScriptRuns(page)
    page.set_default_timeout(30_000)
    yield page
    context.close()


SIDEBAR_COUNT = re.compile(r"^(<?\d+) of \d+ patients$")


def wait_for_run(page, timeout: float = 90_000) -> None:
    """Wait until the app has rendered its sidebar count and finished running the script: the
    page's text, widgets and URL are final (its charts may still be drawing). For a test that
    asserts no chart, this is the state it needs."""
    page.get_by_test_id("stSidebar").get_by_text(SIDEBAR_COUNT).wait_for(timeout=timeout)
    page.wait_for_function(APP_IDLE, timeout=timeout)


def wait_for_app(page, timeout: float = 90_000) -> None:
    """`wait_for_run`, and every chart and widget on the page drawn (for screenshots and chart asserts)."""
    wait_for_run(page, timeout)
    page.wait_for_function(CHARTS_DRAWN, timeout=timeout)
    page.wait_for_function(WIDGETS_DRAWN, timeout=timeout)


def after_rerun(page, action, timeout: float = 90_000, charts: bool = True) -> None:
    """Do `action` (a click, a key press) and wait for the rerun it causes to finish and (unless
    `charts=False`) its charts to be drawn: the server's script_finished message after the action
    is awaited (bench.app_server.ScriptRuns), so a fast rerun is not missed and an old idle state
    is not taken for the new one."""
    ScriptRuns.of(page).after(action, timeout)
    page.wait_for_function(APP_IDLE, timeout=timeout)
    if charts:
        page.wait_for_function(CHARTS_DRAWN, timeout=timeout)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
