"""Recording outcomes, the automatic order they produce, the connection memory and the stats (database)."""

from __future__ import annotations

import functools
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.configuration import selectors as configuration
from apps.configuration.services import update_settings
from apps.scorecard import selectors, services
from apps.scorecard.models import HosterConnectionRule, HosterOutcomeCount, Outcome
from apps.scorecard.scoring import HALF_LIFE_HOURS, WINDOW_HOURS

pytestmark = pytest.mark.django_db


@pytest.fixture
def configure(db):
    def change(**changes):
        update_settings(changes, "tests")
        configuration.invalidate_cache()

    yield change
    configuration.invalidate_cache()


@pytest.fixture
def automatic(configure):
    configure(hoster_preference=["VOE", "Doodstream", "Vidoza"], hoster_order_automatic=True)


def record(hoster: str, outcome: Outcome, times: int = 1, *, site: str = "aniworld", hours_ago: float = 0, **measured):
    at = timezone.now() - timedelta(hours=hours_ago)
    for _ in range(times):
        services.record_attempt(site, hoster, outcome, at=at, **measured)


def test_attempts_of_one_hour_share_one_counter_row_and_names_are_canonical():
    record("voe", Outcome.SUCCESS, ttfb_seconds=0.5, bytes_received=1000, transfer_seconds=2.0)
    record("VOE", Outcome.SUCCESS, ttfb_seconds=1.5, bytes_received=3000, transfer_seconds=2.0)
    record("VOE", Outcome.RESOLVE_FAILED)
    rows = HosterOutcomeCount.objects.order_by("outcome")
    assert [(row.hoster, row.outcome, row.attempts) for row in rows] == [
        ("VOE", "resolve_failed", 1),
        ("VOE", "success", 2),
    ]
    success = rows[1]
    assert (success.ttfb_samples, success.ttfb_seconds, success.bytes_received, success.transfer_seconds) == (
        2,
        2.0,
        4000,
        4.0,
    )


def test_a_recorded_failure_and_success_move_the_automatic_order(automatic):
    assert selectors.hoster_order("aniworld") == ("VOE", "Doodstream", "Vidoza")
    record("VOE", Outcome.RESOLVE_FAILED)
    record("Doodstream", Outcome.SUCCESS)
    assert selectors.hoster_order("aniworld") == ("Doodstream", "VOE", "Vidoza")
    record("VOE", Outcome.SUCCESS, 3)  # VOE recovers: 3 of 4, above Doodstream's 1 of 1
    assert selectors.hoster_order("aniworld") == ("VOE", "Doodstream", "Vidoza")


def test_the_order_is_per_site_and_only_automatic_when_the_owner_says_so(configure):
    configure(hoster_preference=["VOE", "Doodstream"], hoster_order_automatic=False)
    record("VOE", Outcome.DOWNLOAD_FAILED, 3)
    record("Doodstream", Outcome.SUCCESS, 3)
    assert selectors.hoster_order("aniworld") == ("VOE", "Doodstream")
    configure(hoster_order_automatic=True)
    assert selectors.hoster_order("aniworld") == ("Doodstream", "VOE")
    assert selectors.hoster_order("sto") == ("VOE", "Doodstream")  # nothing known about s.to's hosters


def test_recent_attempts_outweigh_old_ones(automatic):
    # VOE failed three times two days ago and worked once now; Doodstream worked twice a day and a half ago
    record("VOE", Outcome.RESOLVE_FAILED, 3, hours_ago=2 * HALF_LIFE_HOURS)
    record("VOE", Outcome.SUCCESS, 2)
    record("Doodstream", Outcome.SUCCESS, 1, hours_ago=1.5 * HALF_LIFE_HOURS)
    scores = selectors.hoster_scores("aniworld")
    assert scores["voe"].weighted_attempts == pytest.approx(2 + 3 * 0.25, rel=0.05)
    assert scores["voe"].weighted_successes == pytest.approx(2, rel=0.05)
    # VOE (2 + 1) / (2.75 + 2) = 0.63 beats Doodstream (0.35 + 1) / (0.35 + 2) = 0.57
    assert selectors.hoster_order("aniworld")[:2] == ("VOE", "Doodstream")


def test_attempts_leave_the_window_and_their_rows_are_pruned(automatic):
    record("VOE", Outcome.RESOLVE_FAILED, 2, hours_ago=WINDOW_HOURS + 1)
    record("Doodstream", Outcome.SUCCESS, hours_ago=WINDOW_HOURS + 2)
    assert HosterOutcomeCount.objects.count() == 2
    assert selectors.hoster_scores("aniworld") == {}
    assert selectors.hoster_order("aniworld") == ("VOE", "Doodstream", "Vidoza")
    record("Vidoza", Outcome.SUCCESS)  # a new hour's row: the old ones go
    assert list(HosterOutcomeCount.objects.values_list("hoster", flat=True)) == ["Vidoza"]


def test_throughput_decides_between_equally_reliable_hosters(automatic):
    record("VOE", Outcome.SUCCESS, 5, bytes_received=1_000_000, transfer_seconds=1.0)
    record("Vidoza", Outcome.SUCCESS, 5, bytes_received=8_000_000, transfer_seconds=1.0)
    assert selectors.hoster_scores("aniworld")["vidoza"].throughput == pytest.approx(8_000_000)
    assert selectors.hoster_order("aniworld") == ("Vidoza", "Doodstream", "VOE")


def test_a_hoster_that_refused_parallel_connections_gets_one_for_a_while():
    assert selectors.allows_parallel("aniworld", "VOE")
    functools.partial(services.mark_single_connection, "aniworld", "voe")(429)  # as the engine's callback calls it
    assert not selectors.allows_parallel("aniworld", "VOE")
    assert HosterConnectionRule.objects.get().refused_status == 429
    assert selectors.allows_parallel("sto", "VOE")  # per catalog site
    assert selectors.allows_parallel("aniworld", "Vidoza")
    later = timezone.now() + selectors.SINGLE_CONNECTION_MEMORY + timedelta(minutes=1)
    assert selectors.allows_parallel("aniworld", "VOE", now=later)  # tried in parallel again after the memory ends
    services.mark_single_connection("aniworld", "VOE", at=later)
    assert not selectors.allows_parallel("aniworld", "VOE", now=later)


def test_the_stats_show_each_hosters_outcomes_per_site(automatic):
    record("VOE", Outcome.RESOLVE_FAILED, 2)
    record("VOE", Outcome.DOWNLOAD_FAILED, ttfb_seconds=0.4, bytes_received=500, transfer_seconds=1.0)
    record("Vidoza", Outcome.SUCCESS, ttfb_seconds=0.2, bytes_received=4000, transfer_seconds=2.0)
    record("Vidoza", Outcome.SUCCESS, ttfb_seconds=0.4, bytes_received=2000, transfer_seconds=1.0)
    record("Vidoza", Outcome.DOWNLOAD_PERMANENT, site="sto")
    services.mark_single_connection("aniworld", "Vidoza")
    stats = selectors.hoster_stats()
    assert stats["automatic_order"] is True
    assert stats["window_hours"] == WINDOW_HOURS
    assert stats["order"] == {"aniworld": ["Vidoza", "Doodstream", "VOE"], "sto": ["VOE", "Doodstream", "Vidoza"]}
    by_key = {(row["site"], row["hoster"]): row for row in stats["scores"]}
    assert set(by_key) == {("aniworld", "VOE"), ("aniworld", "Vidoza"), ("sto", "Vidoza")}
    voe = by_key["aniworld", "VOE"]
    assert (voe["attempts"], voe["successes"], voe["success_rate"]) == (3, 0, 0.0)
    assert voe["failures"] == {"resolve_failed": 2, "download_failed": 1, "download_permanent": 0}
    assert voe["average_ttfb_seconds"] == pytest.approx(0.4) and voe["throughput"] == pytest.approx(500)
    assert voe["score"] == pytest.approx(1 / 5, abs=0.01) and voe["parallel_connections"] is True
    vidoza = by_key["aniworld", "Vidoza"]
    assert (vidoza["attempts"], vidoza["successes"], vidoza["success_rate"]) == (2, 2, 1.0)
    assert vidoza["average_ttfb_seconds"] == pytest.approx(0.3) and vidoza["throughput"] == pytest.approx(2000)
    assert vidoza["parallel_connections"] is False and vidoza["last_attempt_at"] is not None
    assert by_key["sto", "Vidoza"]["failures"]["download_permanent"] == 1


def test_the_stats_api_has_a_hosters_key(auth_client):
    record("VOE", Outcome.SUCCESS, ttfb_seconds=0.1, bytes_received=100, transfer_seconds=1.0)
    response = auth_client.get("/api/queue/stats")
    assert response.status_code == 200
    body = response.json()
    assert "counts" in body and body["hosters"]["automatic_order"] is False
    (voe,) = body["hosters"]["scores"]
    assert voe["hoster"] == "VOE" and voe["successes"] == 1 and voe["throughput"] == 100.0
    schema = auth_client.get("/api/schema").content.decode()
    assert "hoster_order_automatic" in schema and "parallel_connections" in schema


def test_the_setting_is_an_owner_setting_checked_like_the_others(auth_client):
    assert auth_client.get("/api/config").json()["hoster_order_automatic"] is False
    response = auth_client.patch("/api/config", {"hoster_order_automatic": "yes"}, format="json")
    assert response.status_code == 400 and list(response.json()["error"]["details"]) == ["hoster_order_automatic"]
    response = auth_client.patch("/api/config", {"hoster_order_automatic": True}, format="json")
    assert response.status_code == 200, response.content
    configuration.invalidate_cache()
    assert configuration.hoster_order_automatic() is True


def test_the_attempt_meter_measures_time_to_first_byte_and_throughput(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(services.time, "monotonic", lambda: now[0])
    meter = services.AttemptMeter()
    meter.saw(10)  # before start: ignored
    meter.start(baseline=1000)  # resumes from 1000 bytes on disk
    for seconds, bytes_done in [(0.5, 1000), (1.0, 3000), (2.0, 5000), (3.0, 5000)]:  # 1000: nothing new yet
        now[0] = 100.0 + seconds
        meter.saw(bytes_done)
    assert meter.ttfb_seconds == pytest.approx(1.0)
    assert meter.bytes_received == 4000 and meter.transfer_seconds == pytest.approx(2.0)
    assert services.AttemptMeter().ttfb_seconds is None


@pytest.mark.django_db(transaction=True)
def test_workers_recording_the_same_hour_at_once_lose_no_attempt():
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    start = threading.Barrier(6)

    def one() -> None:
        try:
            start.wait()
            record("VOE", Outcome.SUCCESS, 5, bytes_received=10, transfer_seconds=1.0)
        finally:
            connection.close()

    with ThreadPoolExecutor(6) as pool:
        for future in [pool.submit(one) for _ in range(6)]:
            future.result()
    (row,) = HosterOutcomeCount.objects.all()
    assert (row.attempts, row.bytes_received) == (30, 300)
