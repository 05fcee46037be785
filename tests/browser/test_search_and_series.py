"""Search marks series already in the library (and opens them), with covers and years; the series page's
actions and explanations — on the real stack against the fake catalog site, at desktop and phone sizes."""

from __future__ import annotations

import pytest

from tests.browser.fixtures import collect_console_errors, log_in, screenshot_for_docs
from tests.fakesite.plugin import FAST_CATALOG_ENV

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

SEED = """
from apps.library import services as library
series = library.add_series("aniworld", "moonlit-blade")
print("SEEDED", series.pk)
"""


@pytest.fixture
def stack(live_stack_factory, fake_site):
    return live_stack_factory(web_processes=1, workers=1, extra_env={**fake_site.env(), **FAST_CATALOG_ENV})


def seed(live) -> int:
    return int(live.manage("shell", "-c", SEED).stdout.split("SEEDED")[1].split()[0])


def new_page(browser, width: int = 1366, height: int = 850):
    context = browser.new_context(viewport={"width": width, "height": height}, timezone_id="UTC")
    page = context.new_page()
    return context, page, collect_console_errors(page)


def assert_fits(page, where: str) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{where}: the page is {widths[0]} px wide in a {widths[1]} px viewport"


def test_search_marks_a_library_series_and_opens_it(stack, browser):
    live = stack
    live.setup_owner()
    series_id = seed(live)
    for width, height, name in ((1366, 850, "desktop"), (360, 740, None)):
        context, page, errors = new_page(browser, width, height)
        log_in(page, live)
        page.goto(live.url("/search?q=moon"))
        result = page.locator(".search-result[data-reference='aniworld:moonlit-blade']")
        result.locator("[data-in-library]").wait_for()
        assert "In your library" in result.inner_text()
        assert result.locator(".result-year").inner_text() == "2019"
        page.wait_for_function(
            "() => { const img = document.querySelector(\".search-result[data-reference='aniworld:moonlit-blade'] img\");"
            " return img && img.complete && img.naturalWidth > 0; }"
        )
        others = page.locator(".search-result:not([data-reference='aniworld:moonlit-blade'])")
        if others.count():
            assert others.first.locator("button:has-text('Add to library')").count() == 1
        assert_fits(page, f"search at {width} px")
        if name:
            screenshot_for_docs(page, f"search-in-library-{name}-light")
        result.locator("[data-in-library]").click()
        page.wait_for_url(live.url(f"/library/{series_id}"))
        page.wait_for_selector("[data-episode-id]")
        assert errors == []
        context.close()
