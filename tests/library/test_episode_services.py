"""The functions the queue calls: states, target paths, recording a finished file."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from apps.library import naming, services
from apps.library.models import Episode, EpisodeState, Season, Series, UnmatchedFile


def test_target_path_follows_default_template(library, make_series, make_episode):
    series = make_series("Attack on Titan", year=2013)
    episode = make_episode(series, season=2, number=5, title_de="Antwort")
    path = services.episode_target_path(episode, "mkv")
    assert path == library / "Attack on Titan (2013)" / "Season 02" / "Attack on Titan - S02E05 - Antwort.mkv"


def test_films_go_to_season_00_and_stored_folder_wins(library, make_series, make_episode):
    series = make_series("One Piece", year=1999, folder="One Piece [old import]")
    film = make_episode(series, season=0, number=3, title_en="Dead End")
    path = services.episode_target_path(film, ".MP4")
    assert path == library / "One Piece [old import]" / "Season 00" / "One Piece - S00E03 - Dead End.mp4"


def test_hostile_titles_stay_inside_library(library, make_series, make_episode):
    series = make_series("../../../etc/cron.d/evil", slug="evil", year=None)
    episode = make_episode(series, number=1, title_de="..\\..\\x:y/<z>|\x07\x1f")
    path = services.episode_target_path(episode, "mkv")
    assert path.is_relative_to(library)
    assert len(path.relative_to(library).parts) == 3
    assert all(part not in {".", ".."} for part in path.relative_to(library).parts)


def test_symlinked_series_folder_pointing_outside_is_refused(library, tmp_path, make_series, make_episode):
    outside = tmp_path / "outside"
    outside.mkdir()
    (library / "Linked").symlink_to(outside)
    episode = make_episode(make_series("Linked", folder="Linked"))
    with pytest.raises(naming.UnsafePathError, match="outside the library"):
        services.episode_target_path(episode, "mkv")


def test_bad_extension_is_refused(library, make_series, make_episode):
    episode = make_episode(make_series())
    with pytest.raises(naming.UnsafePathError):
        services.episode_target_path(episode, "mkv/../../x")


def test_state_changes_and_present(library, make_series, make_episode):
    episode = make_episode(make_series())
    assert services.set_episode_state(episode.pk, "queued").state == EpisodeState.QUEUED
    with pytest.raises(ValueError, match="no file"):
        services.set_episode_state(episode.pk, EpisodeState.PRESENT)
    with pytest.raises(ValueError):
        services.set_episode_state(episode.pk, "exploded")

    target = services.episode_target_path(episode, "mkv")
    target.parent.mkdir(parents=True)
    target.write_bytes(b"x" * 10)
    UnmatchedFile.objects.create(path=services.to_library_relative(target), size=10, reason="test")
    services.mark_episode_present(episode.pk, target, 10, "de-sub")
    episode.refresh_from_db()
    assert episode.state == EpisodeState.PRESENT
    assert episode.file_path == "Test Anime (2020)/Season 01/Test Anime - S01E01.mkv"
    assert (episode.file_size, episode.file_language) == (10, "de-sub")
    assert not UnmatchedFile.objects.exists()


def test_mark_present_refuses_paths_outside_library(library, tmp_path, make_series, make_episode):
    episode = make_episode(make_series())
    with pytest.raises(naming.UnsafePathError):
        services.mark_episode_present(episode.pk, tmp_path / "elsewhere.mkv", 1, None)
    with pytest.raises(naming.UnsafePathError):
        services.mark_episode_present(episode.pk, "../elsewhere.mkv", 1, None)


def test_restore_state_after_failed_download(library, make_series, make_episode):
    series = make_series()
    upgrade = make_episode(series, number=1)
    (library / "a.mkv").write_bytes(b"1")
    services.mark_episode_present(upgrade.pk, "a.mkv", 1, "en-sub")
    services.set_episode_state(upgrade.pk, "downloading")
    assert services.restore_episode_state(upgrade.pk).state == EpisodeState.PRESENT

    fresh = make_episode(series, number=2)
    services.set_episode_state(fresh.pk, "queued")
    assert services.restore_episode_state(fresh.pk).state == EpisodeState.MISSING


@pytest.mark.django_db
def test_database_constraints():
    series = Series.objects.create(site="aniworld", slug="x", title="X")
    with pytest.raises(IntegrityError), transaction.atomic():
        Series.objects.create(site="aniworld", slug="x", title="Again")
    with pytest.raises(IntegrityError), transaction.atomic():
        Series.objects.create(site="netflix", slug="y", title="Y")
    season = Season.objects.create(series=series, number=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Season.objects.create(series=series, number=1)
    Episode.objects.create(season=season, number=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Episode.objects.create(season=season, number=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Episode.objects.create(season=season, number=2, state="present")
    with pytest.raises(IntegrityError), transaction.atomic():
        Episode.objects.create(season=season, number=3, state="bogus")
