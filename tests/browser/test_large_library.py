"""A big household: 2,000 series and 1,000 waiting downloads still load and filter quickly (pages print their
weight and DOMContentLoaded; the library is paginated by the server, the queue lists its first items)."""

from __future__ import annotations

import time

import pytest

from tests.browser.fixtures import collect_console_errors, log_in, record_page_timing

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

SEED = """
from apps.library.models import Episode, Season, Series
from apps.queue import services as queue
from apps.queue.models import DownloadItem

queue.stop_queue()
series = Series.objects.bulk_create(
    [Series(site="aniworld", slug=f"show-{n:04d}", title=f"Show {n:04d}", folder=f"Show {n:04d}", year=2000 + n % 25)
     for n in range(2000)]
)
seasons = Season.objects.bulk_create([Season(series=s, number=1) for s in series])
episodes = Episode.objects.bulk_create(
    [Episode(season=season, number=e, title_de=f"Folge {e}") for season in seasons for e in range(1, 6)]
)
DownloadItem.objects.bulk_create(
    [DownloadItem(episode=episode, site="aniworld", label=f"{episode.season.series.title} - E{episode.number}",
                  position=index) for index, episode in enumerate(episodes[:1000])]
)
Episode.objects.filter(pk__in=[episode.pk for episode in episodes[:1000]]).update(state="queued")
print("SEEDED")
"""

DOM_CONTENT_LOADED_LIMIT_MS = 1000
RENDER_LIMIT_S = 3.0  # from navigation to the data drawn, on a busy 2-core test machine


def test_two_thousand_series_and_a_thousand_waiting_downloads(live_stack_factory, browser, record_property):
    live = live_stack_factory(web_processes=1, workers=1)
    live.setup_owner()
    assert "SEEDED" in live.manage("shell", "-c", SEED).stdout
    context = browser.new_context(viewport={"width": 1366, "height": 850})
    page = context.new_page()
    errors = collect_console_errors(page)
    log_in(page, live)

    for name, path, ready in (
        ("big-dashboard", "/", "#pending-list [data-item-id]"),
        ("big-library", "/library", "[data-series-id] .series-title"),
    ):
        started = time.monotonic()
        page.goto(live.url(path))
        page.wait_for_selector(ready)
        drawn = time.monotonic() - started
        record_page_timing(page, record_property, name)
        loaded = page.evaluate("() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")
        assert loaded < DOM_CONTENT_LOADED_LIMIT_MS, f"{name}: DOMContentLoaded after {loaded:.0f} ms"
        assert drawn < RENDER_LIMIT_S, f"{name}: drawn after {drawn:.1f} s"
        if name == "big-dashboard":
            page.wait_for_selector("#library-totals [data-total=series]:has-text('2000')")
            assert "of 1000 waiting downloads are shown" in page.inner_text("#pending-more")
            assert page.locator("#pending-list [data-item-id]").count() <= 200

    started = time.monotonic()
    page.fill("#library-filters input[name=search]", "Show 1999")
    page.wait_for_selector("#library-status:has-text('1 series')")
    assert time.monotonic() - started < RENDER_LIMIT_S
    assert errors == []
    context.close()
