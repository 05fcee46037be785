"""Fixtures for the queue and engine tests: real media made by ffmpeg, served on loopback; library rows."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from apps.library.models import Episode, Season, Series
from tests.queue.media_server import MediaServer, make_hls, make_mp4, remux_copy


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("media")
    make_mp4(directory / "episode.mp4", seconds=6)
    remux_copy(directory / "episode.mp4", directory / "episode.mkv", "matroska")
    remux_copy(directory / "episode.mp4", directory / "episode.ts", "mpegts")
    make_hls(directory / "hls", seconds=6)
    return directory


@pytest.fixture
def media_server(media_dir: Path) -> Iterator[MediaServer]:
    server = MediaServer(media_dir).start()
    yield server
    server.stop()


@pytest.fixture
def library(tmp_path: Path, settings) -> Path:
    """An empty library root, which the configuration's library_root() returns."""
    root = tmp_path / "library"
    root.mkdir()
    settings.DEFAULT_LIBRARY_DIR = root
    return root


@pytest.fixture
def set_config(db) -> Callable[..., None]:
    """Change the owner's settings through the configuration service (as the config API does)."""
    from apps.configuration import selectors
    from apps.configuration.services import update_settings

    def change(**changes: Any) -> None:
        update_settings(changes, "tests")
        selectors.invalidate_cache()

    yield change
    selectors.invalidate_cache()


@pytest.fixture
def make_episodes(db) -> Callable[..., list[Episode]]:
    """``make_episodes(3, slug="moonlit-blade")``: a series with episodes 1..n of one season."""

    def make(count: int, *, slug: str = "test-show", title: str = "Test Show", season: int = 1, site: str = "aniworld"):
        series, _ = Series.objects.get_or_create(site=site, slug=slug, defaults={"title": title, "year": 2020})
        season_row, _ = Season.objects.get_or_create(series=series, number=season)
        start = Episode.objects.filter(season=season_row).count() + 1
        return [
            Episode.objects.create(season=season_row, number=number, title_en=f"Episode {number}")
            for number in range(start, start + count)
        ]

    return make


@pytest.fixture
def sent(monkeypatch) -> list[tuple[int, str, str]]:
    """Tasks the dispatcher hands to Celery, recorded instead of sent: (item id, task id, Celery queue)."""
    from aniworld_site import tasks

    records: list[tuple[int, str, str]] = []
    lock = threading.Lock()
    send = tasks._send

    def record(name, args, kwargs, queue, task_id):
        if name != tasks.DOWNLOAD_ITEM:
            return send(name, args, kwargs, queue, task_id)
        with lock:
            records.append((args[0], task_id, queue))

    monkeypatch.setattr(tasks, "_send", record)
    return records
