"""The settings page: errors named as the form names them, each under its own input; the naming preview as you
type (from the owner's own series); leaving with unsaved changes asks first — desktop and phone."""

from __future__ import annotations

import pytest

from tests.browser.fixtures import collect_console_errors, log_in, screenshot_for_docs
from tests.fakesite.plugin import FAST_CATALOG_ENV

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

SEED = """
from apps.library import services as library
library.add_series("aniworld", "moonlit-blade")
print("SEEDED")
"""


@pytest.fixture
def stack(live_stack_factory, fake_site):
    return live_stack_factory(web_processes=1, workers=1, extra_env={**fake_site.env(), **FAST_CATALOG_ENV})


def assert_fits(page, where: str) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{where}: the page is {widths[0]} px wide in a {widths[1]} px viewport"


def test_settings_errors_preview_and_unsaved_changes(stack, browser):
    live = stack
    live.setup_owner()
    live.manage("shell", "-c", SEED)
    for width, height, name in ((1366, 850, "desktop"), (390, 844, "phone"), (360, 740, None)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        errors = collect_console_errors(page)
        log_in(page, live)
        page.goto(live.url("/settings"))
        page.wait_for_selector("#settings-revision:has-text('revision')")

        # The naming preview follows the template as it is typed, for the owner's own series.
        page.fill("#f-naming_template", "{series_title}/S{season:02d}E{episode:02d} {episode_title}")
        page.wait_for_selector("#template-preview:has-text('Moonlit Blade/S01E01')")
        assert "Example (Moonlit Blade)" in page.inner_text("#template-preview")
        page.fill("#f-naming_template", "{series_title}/{nope}")
        page.wait_for_selector("#f-naming_template.is-invalid")
        assert "nope" in page.inner_text("[data-error-for=naming_template]")
        page.fill("#f-naming_template", "{series_title}/S{season:02d}E{episode:02d}")
        page.wait_for_selector("#f-naming_template:not(.is-invalid)")

        # A bad aniworld.to URL marks that input only, and the message names fields as the form does.
        page.fill("#f-provider_urls-aniworld", "ftp://nowhere")
        page.fill("#f-library_path", "relative/folder")
        page.click("#settings-form button[type=submit]")
        page.wait_for_selector("#f-provider_urls-aniworld.is-invalid")
        assert page.inner_text("[data-error-for='provider_urls.aniworld']").strip()
        assert "is-invalid" not in (page.get_attribute("#f-provider_urls-sto", "class") or "")
        assert page.inner_text("[data-error-for='provider_urls.sto']") == ""
        assert page.inner_text("[data-error-for=provider_urls]") == ""
        assert page.inner_text("[data-error-for=library_path]").strip()
        status = page.inner_text("#settings-status")
        assert "Library folder" in status and "Catalog site URLs" in status
        assert "library_path" not in status and "provider_urls" not in status
        assert_fits(page, f"settings with errors at {width} px")
        if name:
            page.locator("#f-provider_urls-aniworld").scroll_into_view_if_needed()
            screenshot_for_docs(page, f"settings-errors-{name}-light")

        # Leaving with unsaved changes asks first; staying keeps the page and what was typed.
        if name == "desktop":
            dialogs: list[str] = []

            def stay(dialog, dialogs=dialogs) -> None:
                dialogs.append(dialog.type)
                dialog.dismiss()

            page.on("dialog", stay)
            page.click("#main-nav a:has-text('Library')", no_wait_after=True)
            page.wait_for_timeout(500)
            assert dialogs == ["beforeunload"]
            assert page.url.endswith("/settings")
            assert page.input_value("#f-provider_urls-aniworld") == "ftp://nowhere"
            page.remove_listener("dialog", stay)
        refused_save = "Failed to load resource: the server responded with a status of 400 (Bad Request)"
        assert [error for error in errors if error != refused_save] == [], errors
        context.close()

    # Saved settings leave without a question.
    context = browser.new_context(viewport={"width": 1366, "height": 850})
    page = context.new_page()
    log_in(page, live)
    page.goto(live.url("/settings"))
    page.wait_for_selector("#settings-revision:has-text('revision')")
    page.fill("#f-max_retries", "4")
    page.click("#settings-form button[type=submit]")
    page.wait_for_selector("#settings-status.alert-success")
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.accept()))
    page.click("#main-nav a:has-text('Library')")
    page.wait_for_url(live.url("/library"))
    assert asked == []
    context.close()
