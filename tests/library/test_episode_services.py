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


@pytest.mark.django_db
def test_two_episodes_can_never_share_one_stored_file():
    season = Season.objects.create(series=Series.objects.create(site="aniworld", slug="x", title="X"), number=1)
    Episode.objects.create(season=season, number=1, file_path="X/Season 01/X - S.mkv", state="present")
    with pytest.raises(IntegrityError), transaction.atomic():
        Episode.objects.create(season=season, number=2, file_path="X/Season 01/X - S.mkv", state="present")
    Episode.objects.create(season=season, number=3)  # any number of episodes without a file
    Episode.objects.create(season=season, number=4)


def test_mark_present_refuses_the_file_of_another_episode(library, make_series, make_episode):
    series = make_series("Show")
    first = make_episode(series, 1, 8)
    second = make_episode(series, 1, 9)
    (library / "Show").mkdir()
    (library / "Show" / "Show - S.mkv").write_bytes(b"eight")
    services.mark_episode_present(first.pk, "Show/Show - S.mkv", 5, "de")
    with pytest.raises(services.PathTaken, match="S01E08"):
        services.mark_episode_present(second.pk, "Show/Show - S.mkv", 5, "de")
    assert Episode.objects.get(pk=second.pk).file_path == ""


def test_target_check_names_the_episode_that_owns_the_file(library, make_series, make_episode):
    series = make_series("Show")
    first = make_episode(series, 1, 8)
    second = make_episode(series, 1, 9)
    target = services.episode_target_path(first, "mkv", "de")
    target.parent.mkdir(parents=True)
    target.write_bytes(b"eight")
    assert services.claim_target(first.pk, target) is False  # a file nobody recorded: not replaceable
    services.mark_episode_present(first.pk, target, 5, "de")
    assert services.claim_target(first.pk, target) is True  # its own file: an upgrade may replace it
    with pytest.raises(services.PathTaken, match="S01E08"):
        services.claim_target(second.pk, target)


@pytest.mark.django_db(transaction=True)
def test_migration_releases_duplicate_paths_keeping_the_last_writer():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("library", "0002_site_labels")], [("library", "0003_episode_unique_file_path")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    series = old.get_model("library", "Series").objects.create(site="aniworld", slug="x", title="X")
    season = old.get_model("library", "Season").objects.create(series=series, number=1)
    old_episode = old.get_model("library", "Episode")
    # what the old naming left behind: two episodes recording the one file the second download wrote
    older = old_episode.objects.create(season=season, number=8, file_path="X/X - S.mkv", file_size=5, state="present")
    newer = old_episode.objects.create(season=season, number=9, file_path="X/X - S.mkv", file_size=5, state="present")
    other = old_episode.objects.create(season=season, number=10, file_path="X/other.mkv", state="present")
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    rows = {row.pk: row for row in Episode.objects.all()}
    assert (rows[newer.pk].file_path, rows[newer.pk].state) == ("X/X - S.mkv", "present")
    assert (rows[older.pk].file_path, rows[older.pk].file_size, rows[older.pk].state) == ("", None, "missing")
    assert rows[other.pk].file_path == "X/other.mkv"
