"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

Without Chromium the browser tests skip with the reason; under ``CI=true`` a skipped browser test
fails the run instead (``make test`` installs Chromium first where it can: ``make browser``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from aniworld_site.env import env_bool
from tests.live import OWNER_PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ROOT / "docs" / "screenshots"  # written by the tests, shown in README
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.skipped and item.get_closest_marker("browser") and env_bool("CI", False):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"a browser test may not skip under CI=true: {reason}"
    return report


@pytest.fixture(scope="module")  # Playwright's loop must not outlive the module: Django's ORM refuses async contexts
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (Debian: apt install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def screenshot_for_docs(page, name: str) -> Path:
    """A screenshot of what the viewport shows, for README's gallery."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), animations="disabled", caret="hide")
    return path


def collect_console_errors(page) -> list[str]:
    """Console errors (Content-Security-Policy violations among them) and uncaught script errors."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    return errors


def log_in(page, live) -> None:
    page.goto(live.url("/login"))
    page.fill("#password", OWNER_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live.url("/"))


PAGE_TIMING = "page_timing"


def record_page_timing(page, record_property, name: str) -> None:
    """Page weight (bytes over the wire, page and its files) and time to DOMContentLoaded, for the summary."""
    weight, loaded = page.evaluate(
        """() => {
            const navigation = performance.getEntriesByType("navigation")[0];
            const files = performance.getEntriesByType("resource").reduce((sum, entry) => sum + entry.transferSize, 0);
            return [navigation.transferSize + files, navigation.domContentLoadedEventEnd];
        }"""
    )
    record_property(PAGE_TIMING, f"{name:<10} {weight / 1024:8.1f} KiB  DOMContentLoaded {loaded:7.0f} ms")


def pytest_terminal_summary(terminalreporter) -> None:
    lines = [
        value
        for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", [])
        for key, value in getattr(report, "user_properties", [])
        if key == PAGE_TIMING
    ]
    if lines:
        terminalreporter.section("page weight and load time (desktop; shared files cached after the first page)")
        for line in lines:
            terminalreporter.line(line)
