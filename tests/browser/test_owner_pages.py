"""A person's first visit: setup, dashboard, logout, login — in a real browser on the real stack."""

from __future__ import annotations

import pytest

from tests.browser.fixtures import screenshot
from tests.live import OWNER_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_first_visit_setup_dashboard_logout_login(live_stack_factory, page):
    live = live_stack_factory(web_processes=1, workers=1)

    page.goto(live.url("/"))
    assert page.url.endswith("/setup")
    page.fill("#password", "short")
    page.fill("#password-confirm", "short")
    page.click("button[type=submit]")
    page.wait_for_selector("#form-error:not(.d-none)")
    assert "12 characters" in page.inner_text("#form-error")
    screenshot(page, "setup-weak-password")

    page.fill("#password", OWNER_PASSWORD)
    page.fill("#password-confirm", OWNER_PASSWORD)
    page.click("#setup-form button[type=submit]")
    page.wait_for_selector("#setup-step-library:not(.d-none)")
    assert page.input_value("#library-path")  # a sensible default is offered
    screenshot(page, "setup-library")
    page.click("#library-form button[type=submit]")
    page.wait_for_url(live.url("/"))
    page.wait_for_selector("[data-check=workers]")
    assert "worker(s) alive" in page.inner_text("[data-check=workers]")
    screenshot(page, "dashboard")

    page.click("#logout-button")
    page.wait_for_url(live.url("/login"))
    page.goto(live.url("/admin/"))
    assert "/login?next=/admin/" in page.url

    page.fill("#password", "Wrong-Password-9")
    page.click("button[type=submit]")
    page.wait_for_selector("#form-error:not(.d-none)")
    assert "Wrong password" in page.inner_text("#form-error")

    page.fill("#password", OWNER_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live.url("/admin/"))
    assert "Aniworld administration" in page.content()
