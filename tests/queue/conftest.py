"""Fixtures for the queue and engine tests: real media made by ffmpeg, served on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.queue.media_server import MediaServer, make_hls, make_mp4


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("media")
    make_mp4(directory / "episode.mp4", seconds=6)
    make_hls(directory / "hls", seconds=6)
    return directory


@pytest.fixture
def media_server(media_dir: Path) -> Iterator[MediaServer]:
    server = MediaServer(media_dir).start()
    yield server
    server.stop()


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "library"
    root.mkdir()
    return root
