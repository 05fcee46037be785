"""The whole product in a real browser: search the catalog, add a series, download its missing episodes
and watch the progress live, on the real stack against the fake catalog site."""

from __future__ import annotations

import re

import pytest

from tests.browser.fixtures import log_in, screenshot, screenshot_for_docs
from tests.fakesite.plugin import FAST_CATALOG_ENV

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_search_add_download_and_watch_live(live_stack_factory, fake_site, page):
    fake_site.set_scenario(slow_bytes_per_second=12_000)  # ~10 s for the small test media: progress is visible
    live = live_stack_factory(web_processes=1, workers=1, extra_env={**fake_site.env(), **FAST_CATALOG_ENV})
    live.setup_owner()
    log_in(page, live)

    page.goto(live.url("/search"))
    page.fill("input[name=q]", "moon")
    page.click("#search-form button[type=submit]")
    page.wait_for_selector(".search-result")
    assert "Moonlit Blade" in page.inner_text("#search-results")
    screenshot(page, "search")
    page.click(".search-result:has-text('Moonlit Blade') button")
    page.click("text=Added — open")
    page.wait_for_selector("[data-episode-id]")
    assert "season 1" in page.inner_text("#seasons").lower()
    screenshot(page, "series")

    page.check("[data-episode-id] .episode-choice >> nth=0")
    page.click("#queue-selected")
    page.wait_for_selector(".alert-success")
    assert re.search(r"1 queued", page.inner_text("#toasts"))

    page.goto(live.url("/"))
    page.wait_for_selector("#live-state:has-text('live')")
    page.wait_for_selector("#active-list [data-item-id]", state="attached", timeout=60_000)
    page.wait_for_function(
        "() => { const t = document.querySelector('#active-list .progress-text'); return t && /[1-9][0-9.]* %/.test(t.textContent); }",
        timeout=60_000,
    )
    screenshot_for_docs(page, "dashboard-downloading")
    page.wait_for_selector("#history-list .bi-check-circle-fill", timeout=120_000)
    assert "Moonlit Blade" in page.inner_text("#history-list")
    screenshot(page, "dashboard-complete")

    page.goto(live.url("/library"))
    page.wait_for_selector("[data-series-id] .series-title")
    row = page.inner_text("[data-series-id]")
    assert "Moonlit Blade" in row
    assert "1 / 7" in row and "6 missing" in row  # the downloaded film now counts as present
    screenshot(page, "library")
