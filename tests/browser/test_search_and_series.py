"""Search marks series already in the library (and opens them), with covers and years; the series page's
actions and explanations — on the real stack against the fake catalog site, at desktop and phone sizes."""

from __future__ import annotations

import httpx
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


SERIES_SEED = """
from django.utils import timezone
from apps.configuration.selectors import library_root
from apps.library import services as library
from apps.library.models import Episode
from apps.queue import services as queue
from apps.queue.models import DownloadItem

queue.stop_queue()  # what the page queues stays visible as waiting
series = library.add_series("aniworld", "moonlit-blade")
episodes = {(e.season.number, e.number): e for e in Episode.objects.filter(season__series=series).select_related("season")}
present = episodes[(1, 1)]
(library_root() / "moonlit-e1.mkv").write_bytes(b"x" * 2048)
library.mark_episode_present(present.pk, "moonlit-e1.mkv", 2048, "de-sub")
failed = episodes[(1, 2)]
DownloadItem.objects.create(episode=failed, site="aniworld", state="failed", finished_at=timezone.now(),
    last_error="no hoster worked: VOE timed out after 30 s\\nVOE: read timed out")
print("SEEDED", series.pk, present.pk, failed.pk, " ".join(str(e.pk) for key, e in sorted(episodes.items()) if key[0] == 2))
"""


def test_series_page_explains_and_acts(stack, browser):
    live = stack
    live.setup_owner()
    numbers = [int(value) for value in live.manage("shell", "-c", SERIES_SEED).stdout.split("SEEDED")[1].split()]
    series_id, present, failed, season_two = numbers[0], numbers[1], numbers[2], numbers[3:]
    client = httpx.Client(base_url=live.url(""), headers={"Authorization": f"Bearer {live.login()}"}, timeout=30)
    for width, height, name in ((1366, 850, "desktop"), (390, 844, "phone"), (360, 740, None)):
        context, page, errors = new_page(browser, width, height)
        log_in(page, live)
        page.goto(live.url(f"/library/{series_id}"))
        page.wait_for_selector(f"[data-episode-id='{failed}'] .episode-failure")
        # Why it is missing, and which language the file on disk is in.
        assert "Download failed" in page.inner_text(f"[data-episode-id='{failed}'] .episode-failure summary")
        assert "no hoster worked: VOE timed out" in page.inner_text(
            f"[data-episode-id='{failed}'] .episode-failure summary"
        )
        assert "German Sub" in page.inner_text(f"[data-episode-id='{present}'] .file-info")
        assert_fits(page, f"series at {width} px")
        if name:
            screenshot_for_docs(page, f"series-actions-{name}-light")
        assert errors == []
        context.close()

    context, page, errors = new_page(browser)
    log_in(page, live)
    page.goto(live.url(f"/library/{series_id}"))
    page.wait_for_selector("[data-season-download='2']")

    # What the site offers for an episode: languages and hosters.
    page.click(f"[data-episode-menu='{failed}']")
    page.click(f"[data-episode-id='{failed}'] [data-action=sources]")
    page.wait_for_selector(f"[data-sources-for='{failed}'] .episode-sources li")
    assert "German Sub: VOE, Doodstream" in page.inner_text(f"[data-sources-for='{failed}']")

    # Download a whole season.
    page.click("[data-season-download='2']")
    page.wait_for_selector("#toasts .alert:has-text('queued')")
    queued = {item["episode_id"] for item in client.get("/api/queue/status").json()["pending"]}
    assert set(season_two) <= queued and present not in queued

    # Ignore, then stop ignoring.
    page.click(f"[data-episode-menu='{failed}']")
    page.click(f"[data-episode-id='{failed}'] [data-action=ignore]")
    page.wait_for_selector(f"[data-episode-id='{failed}'][data-status=ignored]")
    page.click(f"[data-episode-menu='{failed}']")
    page.click(f"[data-episode-id='{failed}'] [data-action=unignore]")
    page.wait_for_selector(f"[data-episode-id='{failed}'][data-status=missing]")

    # Delete a file: asked first; Keep keeps it.
    page.click(f"[data-episode-menu='{present}']")
    page.click(f"[data-episode-id='{present}'] [data-action=delete-file]")
    page.wait_for_selector(".modal.show")
    assert "moonlit-e1.mkv" in page.inner_text(".modal.show")
    page.click(".modal.show button:has-text('Keep')")
    page.wait_for_selector(".modal", state="detached")
    assert page.get_attribute(f"[data-episode-id='{present}']", "data-status") in ("present", "upgradable")
    page.click(f"[data-episode-menu='{present}']")
    page.click(f"[data-episode-id='{present}'] [data-action=delete-file]")
    page.click(".modal.show [data-confirm=yes]")
    page.wait_for_selector(f"[data-episode-id='{present}'][data-status=missing]")

    # The series' own language order.
    page.click("#language-toggle")
    page.wait_for_selector("#language-panel.show")
    page.check("#language-own")
    page.uncheck("#series-languages [data-value=de] input")
    page.click("#series-languages [data-value=en-sub] [data-move=up]")
    page.click("#save-languages")
    page.wait_for_selector("#toasts .alert:has-text('Languages saved')")
    saved = client.get(f"/api/anime/{series_id}").json()
    assert saved["language_preference"] and "de" not in saved["language_preference"]
    page.check("#language-global")
    page.click("#save-languages")
    page.wait_for_function("() => document.querySelectorAll('#toasts .alert').length >= 2")
    live.wait_until(
        lambda: client.get(f"/api/anime/{series_id}").json()["language_preference"] in (None, []), 10, "global order"
    )
    assert errors == []
    context.close()
