"""The worker's download records each hoster's outcome in the scorecard, and the automatic order uses it.

In-process like test_download.py: real catalog client, fake site, engine and database.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.library.models import Episode, Season, Series
from apps.queue import services
from apps.queue.models import DownloadItem, ItemState
from apps.scorecard.models import HosterOutcomeCount, Outcome
from workers.download import run_item

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def episodes(db) -> list[Episode]:
    """The fake site's "Moonlit Blade": S01E01 offers German Dub on VOE, Vidoza and Doodstream."""
    series = Series.objects.create(site="aniworld", slug="moonlit-blade", title="Moonlit Blade", year=2019)
    season = Season.objects.create(series=series, number=1)
    return [Episode.objects.create(season=season, number=number) for number in (1, 2, 3)]


@pytest.fixture
def worker(fake_catalog, library, sent, set_config):
    set_config(max_concurrent_downloads=1, retry_backoff_seconds=1, max_retries=3)
    return fake_catalog


def download(episode: Episode) -> tuple[str, DownloadItem]:
    item_id = services.enqueue_episodes([episode.pk], "normal", None)["queued"][0]["id"]
    return run(item_id)


def run(item_id: int) -> tuple[str, DownloadItem]:
    item = DownloadItem.objects.get(pk=item_id)
    assert item.state == ItemState.QUEUED, f"item {item_id} is {item.state}, not dispatched"
    result = run_item(item_id, item.task_id)
    return result, DownloadItem.objects.get(pk=item_id)


def counters() -> dict[tuple[str, str], HosterOutcomeCount]:
    return {(row.hoster, row.outcome): row for row in HosterOutcomeCount.objects.all()}


def test_a_dead_hoster_is_scored_and_the_automatic_order_tries_the_working_one_first(worker, episodes, set_config):
    set_config(hoster_preference=["VOE", "Vidoza"], hoster_order_automatic=True)
    worker.set_scenario(dead_hosters=["VOE"])
    result, item = download(episodes[0])
    assert result == "completed" and item.hoster == "Vidoza"
    found = counters()
    assert set(found) == {("VOE", Outcome.RESOLVE_FAILED), ("Vidoza", Outcome.SUCCESS)}
    success = found["Vidoza", Outcome.SUCCESS]
    assert success.attempts == 1 and success.site == "aniworld"
    assert success.ttfb_samples == 1 and 0 < success.ttfb_seconds < 30
    assert success.bytes_received > 0 and success.transfer_seconds > 0
    assert found["VOE", Outcome.RESOLVE_FAILED].ttfb_samples == 0

    # VOE works again, but the scorecard says Vidoza: the next download asks VOE for nothing
    worker.set_scenario(dead_hosters=[])
    voe_requests = worker.requests_to("/hoster/voe/")
    assert voe_requests > 0
    result, item = download(episodes[2])
    assert result == "completed" and item.hoster == "Vidoza"
    assert worker.requests_to("/hoster/voe/") == voe_requests
    assert counters()["Vidoza", Outcome.SUCCESS].attempts == 2


def test_without_the_automatic_order_the_configured_one_stands(worker, episodes, set_config):
    set_config(hoster_preference=["VOE", "Vidoza"], hoster_order_automatic=False)
    worker.set_scenario(dead_hosters=["VOE"])
    assert download(episodes[0])[1].hoster == "Vidoza"
    worker.set_scenario(dead_hosters=[])
    assert download(episodes[2])[1].hoster == "VOE"


def test_a_failed_transfer_is_scored_with_its_kind(worker, episodes, set_config):
    set_config(hoster_preference=["Vidoza"])
    worker.set_scenario(fail_times=12, fail_status=503, fail_prefix="/media/")
    result, item = download(episodes[0])
    assert result == "transient"
    assert counters()["Vidoza", Outcome.DOWNLOAD_FAILED].attempts == 1
    worker.set_scenario(fail_times=0)
    DownloadItem.objects.filter(pk=item.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    services.dispatch()
    result, item = run(item.pk)  # the retry moves on to the next source, Vidoza's other language or another hoster
    assert result == "completed"
    assert counters()[item.hoster, Outcome.SUCCESS].attempts == 1
