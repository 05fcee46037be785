"""Library fixtures: a temporary library root and small series/season/episode factories."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.library.models import Episode, Season, Series


@pytest.fixture
def library(db, tmp_path, settings) -> Path:
    """An empty library root that apps.configuration.selectors.library_root() returns."""
    root = tmp_path / "library"
    root.mkdir()
    settings.DEFAULT_LIBRARY_DIR = root
    return root


@pytest.fixture
def make_series(db):
    def make(title: str = "Test Anime", *, slug: str | None = None, year: int | None = 2020, **fields) -> Series:
        slug = slug or title.lower().replace(" ", "-")
        return Series.objects.create(site=fields.pop("site", "aniworld"), slug=slug, title=title, year=year, **fields)

    return make


@pytest.fixture
def make_episode(db):
    def make(series: Series, season: int = 1, number: int = 1, **fields) -> Episode:
        season_row, _ = Season.objects.get_or_create(series=series, number=season)
        return Episode.objects.create(season=season_row, number=number, **fields)

    return make
