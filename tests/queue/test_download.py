"""A worker's whole job for one item, in-process: real catalog client, real fake site, real engine and database.

(The Celery and multi-process behaviour is in test_integration.py.)
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from apps.configuration.defaults import DEFAULT_HOSTER_PREFERENCE
from apps.library import services as library_services
from apps.library.models import Episode, EpisodeState, Season, Series
from apps.library.selectors import EpisodeStatus, assess_episode
from apps.queue import services
from apps.queue.models import DownloadItem, ItemState
from tests.queue.test_engine import stream_languages
from workers import download
from workers import node as worker_node
from workers.engine import incoming_dir

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def moonlit(db) -> list[Episode]:
    """The fake site's "Moonlit Blade" in the library: S01E01 (de, de-sub, en-sub), E02 (de-sub), E03 (de-sub, en-sub)."""
    series = Series.objects.create(site="aniworld", slug="moonlit-blade", title="Moonlit Blade", year=2019)
    season = Season.objects.create(series=series, number=1)
    return [Episode.objects.create(season=season, number=number) for number in (1, 2, 3)]


@pytest.fixture
def worker_env(fake_catalog, library, sent, set_config):
    set_config(max_concurrent_downloads=1, retry_backoff_seconds=1)
    return fake_catalog


def queue_one(episode: Episode, **options) -> int:
    result = services.enqueue_episodes([episode.pk], options.pop("priority", "normal"), options.pop("language", None))
    return result["queued"][0]["id"]


def run(item_id: int) -> str:
    item = DownloadItem.objects.get(pk=item_id)
    assert item.state == ItemState.QUEUED, f"item {item_id} is {item.state}, not dispatched"
    return download.run_item(item_id, item.task_id)


def make_due(item_id: int) -> None:
    DownloadItem.objects.filter(pk=item_id).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    services.dispatch()


def test_download_completes_into_the_library(worker_env, moonlit, library):
    item_id = queue_one(moonlit[0])
    assert run(item_id) == "completed"
    item = DownloadItem.objects.get(pk=item_id)
    episode = Episode.objects.get(pk=moonlit[0].pk)
    assert item.state == ItemState.COMPLETED and item.language_used == "de"
    assert item.hoster == DEFAULT_HOSTER_PREFERENCE[0]  # the most preferred hoster that offers German Dub
    assert episode.state == EpisodeState.PRESENT and episode.file_language == "de"
    path = library / episode.file_path
    assert path.is_file() and path.suffix == ".mp4" and path.stat().st_size == item.bytes_done > 0  # kept as served
    assert "Moonlit Blade" in path.as_posix()
    assert "(deu)" in stream_languages(path)
    assert list(incoming_dir(library).iterdir()) == []


def test_an_upgrade_in_another_container_replaces_the_earlier_file(worker_env, moonlit, library):
    from apps.library import services as library_services

    earlier = library_services.episode_target_path(moonlit[0], "mkv")
    earlier.parent.mkdir(parents=True)
    earlier.write_bytes(b"the earlier German Sub file")
    relative = library_services.to_library_relative(earlier)
    Episode.objects.filter(pk=moonlit[0].pk).update(file_path=relative, file_language="de-sub", file_size=27)
    item_id = queue_one(moonlit[0])
    assert run(item_id) == "completed"
    episode = Episode.objects.get(pk=moonlit[0].pk)
    assert episode.file_path.endswith(".mp4") and episode.file_language == "de"
    assert (library / episode.file_path).is_file()
    assert not earlier.exists(), "the replaced file was left behind next to the new one"


def test_language_preference_picks_the_best_offered(worker_env, moonlit, library):
    item_id = queue_one(moonlit[2])  # offers de-sub and en-sub only
    assert run(item_id) == "completed"
    assert DownloadItem.objects.get(pk=item_id).language_used == "de-sub"


def test_no_source_in_an_allowed_language_fails_at_once(worker_env, moonlit):
    item_id = queue_one(moonlit[1], language="en")
    assert run(item_id) == "permanent"
    item = DownloadItem.objects.get(pk=item_id)
    assert item.state == ItemState.FAILED and item.attempts == 0
    assert item.last_error.startswith("No source in an allowed language")
    assert "German Sub" in item.last_error and "English Dub" in item.last_error


def test_a_dead_hoster_falls_through_to_the_next(worker_env, moonlit, set_config):
    set_config(hoster_preference=["VOE", "Vidoza", "Doodstream"])
    worker_env.set_scenario(dead_hosters=["VOE"])
    item_id = queue_one(moonlit[0])
    assert run(item_id) == "completed"
    item = DownloadItem.objects.get(pk=item_id)
    assert item.hoster == "Vidoza" and item.attempts == 0


def test_server_errors_retry_with_backoff_then_succeed(worker_env, moonlit, set_config):
    set_config(hoster_preference=["Vidoza"], max_retries=3)
    worker_env.set_scenario(fail_times=12, fail_status=503, fail_prefix="/media/")
    item_id = queue_one(moonlit[0])
    assert run(item_id) == "transient"
    item = DownloadItem.objects.get(pk=item_id)
    assert item.state == ItemState.PENDING and item.attempts == 1
    assert "503" in item.last_error and item.next_attempt_at > timezone.now()
    assert services.dispatch() == []
    worker_env.set_scenario(fail_times=0)
    make_due(item_id)
    assert run(item_id) == "completed"
    assert DownloadItem.objects.get(pk=item_id).attempts == 1


def test_a_truncated_transfer_is_detected_and_retried(worker_env, moonlit, library, set_config):
    set_config(hoster_preference=["Vidoza"])
    worker_env.set_scenario(truncate_media=True)
    item_id = queue_one(moonlit[0])
    assert run(item_id) == "transient"
    item = DownloadItem.objects.get(pk=item_id)
    assert "cut short" in item.last_error or "truncated" in item.last_error, item.last_error
    assert not Path(library / "Moonlit Blade (2019)").exists() or not list(
        (library / "Moonlit Blade (2019)").rglob("*.mp4")
    )
    worker_env.set_scenario(truncate_media=False)
    make_due(item_id)
    assert run(item_id) == "completed"


def test_site_blocking_waits_without_an_attempt(worker_env, moonlit):
    worker_env.set_scenario(block_prefix="/aw/")
    item_id = queue_one(moonlit[0])
    assert run(item_id) == "blocking"
    item = DownloadItem.objects.get(pk=item_id)
    assert item.state == ItemState.PENDING and item.attempts == 0
    assert item.next_attempt_at > timezone.now()


def test_a_hostile_title_stays_inside_the_library(worker_env, library):
    series = Series.objects.create(site="aniworld", slug="hostile-title", title="../../etc/evil\x01/..", year=2020)
    episode = Episode.objects.create(season=Season.objects.create(series=series, number=1), number=1, title_de="../x")
    item_id = queue_one(episode)
    assert run(item_id) == "completed"
    path = (library / Episode.objects.get(pk=episode.pk).file_path).resolve()
    assert path.is_file() and path.is_relative_to(library.resolve())


def _run_in_thread(item_id: int) -> tuple[threading.Thread, list[str]]:
    outcome: list[str] = []
    item = DownloadItem.objects.get(pk=item_id)

    def target():
        from django.db import connection

        try:
            outcome.append(download.run_item(item_id, item.task_id))
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def _wait_for_bytes(item_id: int, library: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(path.stat().st_size > 0 for path in incoming_dir(library).glob(f"{item_id}.part*")):
            return
        time.sleep(0.05)
    raise AssertionError("the download never started writing")


def test_cancel_of_an_active_download_stops_it_and_deletes_the_partial(worker_env, moonlit, library, set_config):
    set_config(hoster_preference=["Vidoza"])
    worker_env.set_scenario(slow_bytes_per_second=30_000)
    item_id = queue_one(moonlit[0])
    thread, outcome = _run_in_thread(item_id)
    _wait_for_bytes(item_id, library)
    cancelled_at = time.monotonic()
    services.cancel_item(item_id)
    thread.join(timeout=10)
    assert time.monotonic() - cancelled_at < 2.0
    assert outcome == ["cancelled"]
    assert list(incoming_dir(library).glob(f"{item_id}*")) == []
    assert DownloadItem.objects.get(pk=item_id).state == ItemState.CANCELLED


def test_stop_keeps_the_partial_and_the_next_attempt_resumes(worker_env, moonlit, library, set_config):
    set_config(hoster_preference=["Vidoza"])
    worker_env.set_scenario(slow_bytes_per_second=40_000)
    item_id = queue_one(moonlit[0])
    thread, outcome = _run_in_thread(item_id)
    _wait_for_bytes(item_id, library)
    time.sleep(0.5)
    services.stop_queue()
    thread.join(timeout=10)
    assert outcome == ["stopped"]
    partial = incoming_dir(library) / f"{item_id}.part"
    kept = partial.stat().st_size
    assert kept > 0
    assert DownloadItem.objects.get(pk=item_id).state == ItemState.PENDING

    worker_env.set_scenario(slow_bytes_per_second=None)
    served_before = worker_env.stats()["bytes_served"]
    services.start_queue()
    assert run(item_id) == "completed"
    media_size = worker_env.media().mp4.stat().st_size
    served = worker_env.stats()["bytes_served"] - served_before
    assert served <= media_size - kept + 64 * 1024, "the resumed attempt fetched the whole file again"


def test_the_episode_page_languages_update_the_library(worker_env, moonlit, set_config):
    """The season table said German Dub; the episode page offers only German Sub: the page is the truth."""
    Episode.objects.filter(pk=moonlit[1].pk).update(languages_available=["de", "de-sub"])
    set_config(language_preference=["de"])
    item_id = queue_one(moonlit[1])
    assert run(item_id) == "permanent"
    episode = Episode.objects.get(pk=moonlit[1].pk)
    assert episode.languages_available == ["de-sub"]
    assert assess_episode(episode, ["de"]).status == EpisodeStatus.UNAVAILABLE


def test_the_episode_page_languages_make_a_file_upgradable(worker_env, moonlit, set_config):
    Episode.objects.filter(pk=moonlit[2].pk).update(languages_available=["de-sub"])
    set_config(language_preference=["en-sub", "de-sub"])
    item_id = queue_one(moonlit[2], language="de-sub")
    assert run(item_id) == "completed"
    episode = Episode.objects.get(pk=moonlit[2].pk)
    assert episode.languages_available == ["de-sub", "en-sub"]  # as the episode page lists them
    assert assess_episode(episode, ["en-sub", "de-sub"]).status == EpisodeStatus.UPGRADABLE


@pytest.fixture
def shutdown_flag():
    worker_node.prepare_shutdown_flag()
    yield
    worker_node._stop_flag = None


def test_a_clean_worker_stop_hands_the_download_back_with_its_partial(
    worker_env, moonlit, library, set_config, shutdown_flag
):
    set_config(hoster_preference=["Vidoza"])
    worker_env.set_scenario(slow_bytes_per_second=40_000)
    item_id = queue_one(moonlit[0])
    thread, outcome = _run_in_thread(item_id)
    _wait_for_bytes(item_id, library)
    assert not worker_node.shutdown_requested()

    asked = time.monotonic()
    worker_node.request_shutdown()  # what Celery's warm shutdown does in the worker's main process
    thread.join(timeout=10)
    took = time.monotonic() - asked
    print(f"download stopped and handed back {took:.2f}s after the stop request")
    assert outcome == ["released"]
    assert took < 2.0
    item = DownloadItem.objects.get(pk=item_id)
    assert item.state == ItemState.PENDING
    assert item.worker_id == "" and item.lease_expires_at is None and item.task_id == ""
    assert item.attempts == 0 and "stopped cleanly" in item.last_error
    assert Episode.objects.get(pk=moonlit[0].pk).state == EpisodeState.QUEUED
    assert (incoming_dir(library) / f"{item_id}.part").stat().st_size > 0


LONG_TITLE = ("The Reincarnated Villainess Who Was Definitely Not Evil and Her Very Long Subtitle " * 4)[:300]


# NUL cannot reach the database (PostgreSQL refuses it; the naming tests cover it)
HOSTILE_LONG_TITLE = (("../" * 30) + "\x01evil\u202e/..\\" + "Ω" * 300)[:300]


@pytest.mark.parametrize("title", [LONG_TITLE, HOSTILE_LONG_TITLE], ids=["long", "hostile"])
def test_two_episodes_of_a_long_titled_series_become_two_files(worker_env, library, title):
    series = Series.objects.create(site="aniworld", slug="moonlit-blade", title=title, year=2019)
    season = Season.objects.create(series=series, number=1)
    episodes = [Episode.objects.create(season=season, number=n, title_de=title) for n in (1, 2)]
    for episode in episodes:
        assert run(queue_one(episode)) == "completed"
    paths = [Episode.objects.get(pk=episode.pk).file_path for episode in episodes]
    assert paths[0] != paths[1]
    for number, path in zip((1, 2), paths, strict=True):
        assert f"S01E{number:02}" in path
        assert (library / path).is_file()
        assert (library / path).resolve().is_relative_to(library.resolve())
        assert "\x01" not in path and "\u202e" not in path and ".." not in path.split("/")
    assert {Episode.objects.get(pk=episode.pk).state for episode in episodes} == {EpisodeState.PRESENT}


SERVED = "mp4"  # the fake site's files are kept in the container they arrive in


def _claim_for(episode: Episode, owner: Episode, library: Path) -> Path:
    """Make ``owner`` the recorded owner of the file ``episode`` would be downloaded to."""
    target = library / library_services.episode_relative_path(episode, SERVED, "de")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"the other episode")
    Episode.objects.filter(pk=owner.pk).update(
        file_path=library_services.to_library_relative(target), file_size=17, state=EpisodeState.PRESENT
    )
    return target


def test_the_file_of_another_episode_is_never_overwritten(worker_env, moonlit, library):
    target = _claim_for(moonlit[0], moonlit[1], library)
    item_id = queue_one(moonlit[0])
    assert run(item_id) == "permanent"
    item = DownloadItem.objects.get(pk=item_id)
    assert item.state == ItemState.FAILED and "S01E02" in item.last_error and "not overwritten" in item.last_error
    assert target.read_bytes() == b"the other episode"
    assert Episode.objects.get(pk=moonlit[0].pk).state == EpisodeState.MISSING


def test_another_episode_claiming_the_path_mid_download_is_caught_before_the_move(
    worker_env, moonlit, library, set_config
):
    set_config(hoster_preference=["Vidoza"])
    worker_env.set_scenario(slow_bytes_per_second=60_000)
    item_id = queue_one(moonlit[0])
    thread, outcome = _run_in_thread(item_id)
    _wait_for_bytes(item_id, library)
    target = _claim_for(moonlit[0], moonlit[1], library)
    worker_env.set_scenario(slow_bytes_per_second=None)
    thread.join(timeout=60)
    assert outcome == ["permanent"]
    assert target.read_bytes() == b"the other episode"
    assert "not overwritten" in DownloadItem.objects.get(pk=item_id).last_error


def test_an_unrecorded_file_at_the_target_is_not_overwritten(worker_env, moonlit, library):
    target = library / library_services.episode_relative_path(moonlit[0], SERVED, "de")
    target.parent.mkdir(parents=True)
    target.write_bytes(b"someone's file")
    item_id = queue_one(moonlit[0])
    assert run(item_id) == "permanent"
    assert "already exists" in DownloadItem.objects.get(pk=item_id).last_error
    assert target.read_bytes() == b"someone's file"


def test_a_new_download_replaces_the_episodes_own_recorded_file(worker_env, moonlit, library):
    target = _claim_for(moonlit[0], moonlit[0], library)
    Episode.objects.filter(pk=moonlit[0].pk).update(state=EpisodeState.MISSING)  # e.g. the owner asked again
    assert run(queue_one(moonlit[0], language="de")) == "completed"
    assert target.stat().st_size > 17
    assert Episode.objects.get(pk=moonlit[0].pk).file_path == library_services.to_library_relative(target)
