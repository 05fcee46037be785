"""The scanner on generated library trees: matching, patterns, incremental rescans and hostile trees."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from apps.library import services
from apps.library.models import Episode, EpisodeState, ScannedDirectory, Series, UnmatchedFile
from apps.library.naming import DEFAULT_TEMPLATE
from apps.library.scanner import (
    LibraryScanner,
    guess_language,
    parse_episode_file,
    parse_folder_name,
    season_from_directory,
    template_pattern,
)


def touch(root: Path, relative: str, size: int = 3) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"v" * size)
    return path


def scan(root: Path, **options):
    return LibraryScanner(root, **options).run()


def episode(series: Series, season: int, number: int) -> Episode:
    return Episode.objects.get(season__series=series, season__number=season, number=number)


def age(path: Path, seconds: int = 60) -> None:
    """Make a directory look settled (older than the file system's mtime granularity)."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - seconds * 1_000_000_000))


def age_tree(root: Path) -> None:
    for directory, _dirs, _files in os.walk(root):
        age(Path(directory))


@pytest.mark.parametrize(
    ("stem", "hint", "expected"),
    [
        ("Attack on Titan - S02E05 - Antwort", None, (2, 5)),
        ("show.s1e10.1080p.x264", None, (1, 10)),
        ("Show 3x07 Title", None, (3, 7)),
        ("[Group] Show - 12 [1080p]", 2, (2, 12)),
        ("Show - 04 - Title", None, (1, 4)),
        ("Show Episode 9", 3, (3, 9)),
        ("Show - Folge 11", None, (1, 11)),
        ("Show Film 2", None, (0, 2)),
        ("Show Movie 1 - The Beginning", None, (0, 1)),
        ("Show - S00E03 - Special", None, (0, 3)),
    ],
)
def test_episode_patterns(stem, hint, expected):
    parsed = parse_episode_file(stem, hint, template_pattern(DEFAULT_TEMPLATE))
    assert parsed is not None
    assert (parsed.season, parsed.number) == expected


@pytest.mark.parametrize("stem", ["Show 1920x1080 trailer", "Making of", "Show (2013) opening"])
def test_files_without_numbers_are_not_guessed(stem):
    assert parse_episode_file(stem, 1, template_pattern(DEFAULT_TEMPLATE)) is None


def test_custom_template_is_recognised():
    regex = template_pattern("{series_title}/Staffel {season}/{series_title} Folge {episode:03} ({language})")
    parsed = parse_episode_file("Show Folge 007 (German Dub)", None, regex)
    assert (parsed.season, parsed.number, parsed.how) == (1, 7, "template")


def test_folder_names_languages_and_seasons():
    assert parse_folder_name("Re:Zero \u2013 Starting Life (2016)") == ("re zero starting life", 2016)
    assert parse_folder_name("Fullmetal Alchemist & Brotherhood") == ("fullmetal alchemist and brotherhood", None)
    assert [season_from_directory(n) for n in ["Season 02", "Staffel 3", "S4", "Specials", "Filme", "Extras"]] == [
        2,
        3,
        4,
        0,
        0,
        None,
    ]
    assert guess_language("Show - S01E01 [GerSub]") == "de-sub"
    assert guess_language("Show - S01E01 German Dub") == "de"
    assert guess_language("Show - S01E01 eng-sub") == "en-sub"
    assert guess_language("Show - S01E01") is None


def test_first_scan_matches_folders_and_records_files(library, make_series, make_episode):
    titan = make_series("Attack on Titan", year=2013)
    make_episode(titan, 1, 1, title_de="Dir, in 2000 Jahren")
    rezero = make_series("Re:Zero", slug="rezero", year=2016, alternative_titles=["Re Zero kara Hajimeru"])
    stored = make_series("Naruto", year=2002, folder="Naruto Collection")
    touch(library, "Attack on Titan (2013)/Season 01/Attack on Titan - S01E01 - Dir.mkv", 11)
    touch(library, "Attack on Titan (2013)/Season 01/Attack on Titan - S01E02 - X [GerSub].mp4", 12)
    touch(library, "Attack on Titan (2013)/Specials/Attack on Titan - Film 1.mkv")
    touch(library, "Re Zero kara Hajimeru/Season 2/[Sub] Re Zero - 03 [1080p].mkv")
    touch(library, "Naruto Collection/Naruto 1x05.avi")
    touch(library, "Attack on Titan (2013)/Season 01/poster.jpg")  # not a video: ignored silently
    touch(library, "Attack on Titan (2013)/Season 01/Bonus clip.mkv")
    touch(library, "Unknown Show (1999)/S01E01.mkv")
    touch(library, "loose file.mkv")

    report = scan(library)

    first = episode(titan, 1, 1)
    assert (first.state, first.file_size, first.title_de) == (EpisodeState.PRESENT, 11, "Dir, in 2000 Jahren")
    assert first.file_path == "Attack on Titan (2013)/Season 01/Attack on Titan - S01E01 - Dir.mkv"
    second = episode(titan, 1, 2)
    assert (second.state, second.file_language) == (EpisodeState.PRESENT, "de-sub")
    assert episode(titan, 0, 1).state == EpisodeState.PRESENT
    assert episode(rezero, 2, 3).file_path.startswith("Re Zero kara Hajimeru/Season 2/")
    assert episode(stored, 1, 5).state == EpisodeState.PRESENT
    titan.refresh_from_db()
    rezero.refresh_from_db()
    assert (titan.folder, rezero.folder) == ("Attack on Titan (2013)", "Re Zero kara Hajimeru")

    unmatched = dict(UnmatchedFile.objects.values_list("path", "reason"))
    assert set(unmatched) == {
        "Attack on Titan (2013)/Season 01/Bonus clip.mkv",
        "Unknown Show (1999)/S01E01.mkv",
        "loose file.mkv",
    }
    assert "season and episode" in unmatched["Attack on Titan (2013)/Season 01/Bonus clip.mkv"]
    assert "does not match any series" in unmatched["Unknown Show (1999)/S01E01.mkv"]
    assert report.episodes_found == 5
    assert report.series_matched == 3


def test_year_decides_between_same_titles(library, make_series):
    old = make_series("Hunter x Hunter", slug="hxh-1999", year=1999)
    new = make_series("Hunter x Hunter", slug="hxh-2011", year=2011)
    touch(library, "Hunter x Hunter (2011)/Season 01/Hunter x Hunter - S01E01.mkv")
    touch(library, "Hunter x Hunter/Season 01/Hunter x Hunter - S01E02.mkv")  # ambiguous without a year
    scan(library)
    assert episode(new, 1, 1).state == EpisodeState.PRESENT
    assert not Episode.objects.filter(season__series=old).exists()
    assert UnmatchedFile.objects.filter(path__startswith="Hunter x Hunter/").count() == 1


def test_incoming_partial_and_hidden_files_are_ignored(library, make_series):
    series = make_series("Show", year=2020)
    touch(library, ".incoming/Show - S01E01.mkv.part")
    touch(library, ".incoming/whatever.mkv")
    touch(library, "Show (2020)/Season 01/Show - S01E01.mkv.part")
    touch(library, "Show (2020)/Season 01/.Show - S01E02.mkv")
    touch(library, "Show (2020)/@eaDir/Show - S01E03.mkv")
    report = scan(library)
    assert report.files_seen == 0
    assert not Episode.objects.filter(season__series=series).exists()
    assert not UnmatchedFile.objects.exists()


def test_symlinks_outside_the_root_are_not_followed(library, tmp_path, make_series):
    series = make_series("Show", year=2020)
    outside = tmp_path / "outside"
    touch(outside, "Show - S01E09.mkv")
    touch(outside, "Season 05/Show - S05E01.mkv")
    touch(library, "Show (2020)/Season 01/Show - S01E01.mkv")
    (library / "Show (2020)" / "Season 05").symlink_to(outside / "Season 05")
    (library / "Show (2020)" / "Season 01" / "Show - S01E09.mkv").symlink_to(outside / "Show - S01E09.mkv")
    (library / "Escape").symlink_to(outside)
    (library / "Show (2020)" / "Season 01" / "loop").symlink_to(library / "Show (2020)")
    (library / "Show (2020)" / "Season 01" / "Show - S01E07.mkv").symlink_to(library / "nowhere.mkv")

    report = scan(library)

    numbers = set(Episode.objects.filter(season__series=series).values_list("season__number", "number"))
    assert numbers == {(1, 1)}
    kinds = {(problem["path"], problem["kind"]) for problem in report.problems}
    assert ("Show (2020)/Season 05", "symlink_outside") in kinds
    assert ("Show (2020)/Season 01/Show - S01E09.mkv", "symlink_outside") in kinds
    assert ("Escape", "symlink_outside") in kinds
    assert ("Show (2020)/Season 01/loop", "symlink_loop") in kinds
    assert ("Show (2020)/Season 01/Show - S01E07.mkv", "broken_symlink") in kinds


def test_symlink_inside_the_root_is_followed(library, tmp_path, make_series):
    series = make_series("Show", year=2020)
    touch(library, "storage/Show S02/Show - S02E04.mkv")
    (library / "Show (2020)").mkdir()
    (library / "Show (2020)" / "Season 02").symlink_to(library / "storage" / "Show S02")
    scan(library)
    assert episode(series, 2, 4).file_path == "Show (2020)/Season 02/Show - S02E04.mkv"


def test_unreadable_folder_is_reported_and_keeps_its_episodes(library, make_series, monkeypatch):
    series = make_series("Show", year=2020)
    touch(library, "Show (2020)/Season 01/Show - S01E01.mkv")
    touch(library, "Show (2020)/Season 02/Show - S02E01.mkv")
    scan(library)
    assert episode(series, 2, 1).state == EpisodeState.PRESENT

    touch(library, "Show (2020)/Season 02/Show - S02E02.mkv")
    touch(library, "Show (2020)/Season 01/Show - S01E02.mkv")
    blocked = str(library / "Show (2020)" / "Season 02")
    real_scandir = os.scandir

    def guarded_scandir(path="."):
        if os.fspath(path) == blocked:
            raise PermissionError(13, "Permission denied", blocked)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", guarded_scandir)
    report = scan(library)

    assert {"path": "Show (2020)/Season 02", "kind": "unreadable"}.items() <= report.problems[0].items()
    assert "Permission denied" in report.problems[0]["message"]
    assert episode(series, 2, 1).state == EpisodeState.PRESENT  # not forgotten because unreadable
    assert episode(series, 1, 2).state == EpisodeState.PRESENT  # the rest of the tree was scanned
    assert not Episode.objects.filter(season__series=series, season__number=2, number=2).exists()

    monkeypatch.setattr(os, "scandir", real_scandir)
    scan(library)  # readable again: the folder is listed again
    assert episode(series, 2, 2).state == EpisodeState.PRESENT


def test_rescan_of_unchanged_library_lists_nothing_but_the_root(library, make_series):
    make_series("Show", year=2020)
    for season in range(1, 4):
        for number in range(1, 6):
            touch(library, f"Show (2020)/Season {season:02}/Show - S{season:02}E{number:02}.mkv")
    age_tree(library)
    first = scan(library)
    assert first.directories_listed == 5  # root, series folder, three seasons
    assert first.episodes_found == 15

    second = scan(library)
    assert second.directories_visited == 5
    assert second.directories_listed == 1  # only the library root
    assert second.files_seen == 0
    assert Episode.objects.filter(state=EpisodeState.PRESENT).count() == 15


def test_rescan_sees_added_removed_and_moved_files(library, make_series):
    series = make_series("Show", year=2020)
    touch(library, "Show (2020)/Season 01/Show - S01E01.mkv")
    touch(library, "Show (2020)/Season 01/Show - S01E02.mkv")
    touch(library, "Show (2020)/Season 02/Show - S02E01.mkv")
    touch(library, "Show (2020)/Extras/Show - S03E01.mkv")
    age_tree(library)
    scan(library)

    (library / "Show (2020)/Season 01/Show - S01E02.mkv").unlink()
    touch(library, "Show (2020)/Season 01/Show - S01E03.mkv")
    os.rename(library / "Show (2020)/Season 02", library / "Show (2020)/Season 2")
    (library / "Show (2020)/Extras/Show - S03E01.mkv").unlink()
    (library / "Show (2020)/Extras").rmdir()
    report = scan(library)

    assert episode(series, 1, 2).state == EpisodeState.MISSING
    assert episode(series, 1, 2).file_path == ""
    assert episode(series, 1, 3).state == EpisodeState.PRESENT
    assert episode(series, 2, 1).file_path == "Show (2020)/Season 2/Show - S02E01.mkv"
    assert episode(series, 2, 1).state == EpisodeState.PRESENT
    assert episode(series, 3, 1).state == EpisodeState.MISSING
    assert not ScannedDirectory.objects.filter(path__in=["Show (2020)/Season 02", "Show (2020)/Extras"]).exists()
    assert report.episodes_lost == 2


def test_new_series_record_adopts_files_flagged_before(library, make_series):
    touch(library, "Frieren (2023)/Season 01/Frieren - S01E01.mkv")
    age_tree(library)
    scan(library)
    assert UnmatchedFile.objects.count() == 1
    series = make_series("Frieren", year=2023)
    scan(library)  # the folder's own mtime did not change, the match did
    assert episode(series, 1, 1).state == EpisodeState.PRESENT
    assert not UnmatchedFile.objects.exists()


def test_duplicate_files_for_one_episode_are_flagged(library, make_series):
    series = make_series("Show", year=2020)
    touch(library, "Show (2020)/Season 01/Show - S01E01.mkv")
    touch(library, "Show (2020)/Season 01/Show 1x01 other release.mp4")
    scan(library)
    assert episode(series, 1, 1).file_path.endswith("Show - S01E01.mkv")
    (flagged,) = UnmatchedFile.objects.all()
    assert flagged.path.endswith("other release.mp4")
    assert "already S01E01" in flagged.reason


def test_ignored_and_queued_states_survive_a_scan(library, make_series, make_episode):
    series = make_series("Show", year=2020)
    ignored = make_episode(series, 1, 1, state=EpisodeState.IGNORED)
    queued = make_episode(series, 1, 2, state=EpisodeState.QUEUED)
    touch(library, "Show (2020)/Season 01/Show - S01E01.mkv")
    touch(library, "Show (2020)/Season 01/Show - S01E02.mkv")
    scan(library)
    ignored.refresh_from_db()
    queued.refresh_from_db()
    assert (ignored.state, bool(ignored.file_path)) == (EpisodeState.IGNORED, True)
    assert (queued.state, bool(queued.file_path)) == (EpisodeState.QUEUED, True)


@pytest.mark.parametrize(
    "name",
    [
        "Ünïcödé Shöw (2020)",
        "Show: With Colon & Ampersand (2020)",
        "進撃の巨人 (2020)",
        "Show 🎉 (2020)",
        "Show   with    spaces (2020)",
    ],
)
def test_odd_folder_names(library, make_series, name):
    title = name.rsplit(" (", 1)[0]
    series = make_series(title, slug="odd", year=2020)
    touch(library, f"{name}/Season 01/x - S01E01 - ☃ weird [name] {{}} ' \".mkv")
    scan(library)
    assert episode(series, 1, 1).state == EpisodeState.PRESENT


def test_full_rescan_picks_up_size_changes(library, make_series):
    series = make_series("Show", year=2020)
    path = touch(library, "Show (2020)/Season 01/Show - S01E01.mkv", 5)
    age_tree(library)
    scan(library)
    path.write_bytes(b"x" * 50)
    scan(library)
    assert episode(series, 1, 1).file_size == 5  # in-place rewrite: the folder did not change
    scan(library, full=True)
    assert episode(series, 1, 1).file_size == 50


def test_missing_library_root_is_a_problem_not_a_crash(tmp_path, db):
    report = scan(tmp_path / "does-not-exist")
    assert report.problems[0]["kind"] == "unreadable"


def test_scan_service_records_run_and_holds_lock(library, make_series):
    make_series("Show", year=2020)
    touch(library, "Show (2020)/Season 01/Show - S01E01.mkv")
    events = []
    run = services.scan_library(progress=events.append)
    assert run.status == "finished"
    assert run.stats["episodes_found"] == 1
    assert events[0]["phase"] == "starting"
    assert events[-1]["phase"] == "finished"
    assert not services.is_scan_running()

    with services.scan_lock("other"):
        assert services.is_scan_running()
        with pytest.raises(services.ScanAlreadyRunning):
            services.scan_library()
    assert not services.is_scan_running()


def test_a_file_recorded_for_the_wrong_episode_moves_to_the_right_one(library, make_series):
    series = make_series("Show", folder="Show (2020)")
    touch(library, "Show (2020)/Season 01/Show - S01E02.mkv")
    scan(library)
    second = episode(series, 1, 2)
    first = Episode.objects.create(season=second.season, number=1)
    # the file was once recorded as episode 1's; the scan must hand it to episode 2 without a conflict
    Episode.objects.filter(pk=second.pk).update(file_path="", state=EpisodeState.MISSING)
    Episode.objects.filter(pk=first.pk).update(file_path="Show (2020)/Season 01/Show - S01E02.mkv", state="present")
    scan(library, full=True)
    assert episode(series, 1, 2).file_path == "Show (2020)/Season 01/Show - S01E02.mkv"
    assert episode(series, 1, 1).file_path == ""


@pytest.mark.django_db
def test_episodes_found_in_batches_get_their_ids_and_a_rescan_changes_nothing(tmp_path, monkeypatch):
    """Episodes are inserted in batches after their folders were read; the batches must line up."""
    monkeypatch.setattr("apps.library.scanner.EPISODE_INSERT_BATCH", 3)
    shows = [Series.objects.create(site="aniworld", slug=f"batch-{n}", title=f"Batch {n}", year=2020) for n in (1, 2)]
    for show in shows:
        for season in (1, 2):
            for number in range(1, 5):
                touch(tmp_path, f"{show.title} (2020)/Season {season:02}/{show.title} - S{season:02}E{number:02}.mkv")
    age_tree(tmp_path)

    report = scan(tmp_path)
    assert report.episodes_created == 16 and report.episodes_found == 16
    for show in shows:
        for season in (1, 2):
            for number in range(1, 5):
                row = episode(show, season, number)
                assert row.state == EpisodeState.PRESENT
                assert (
                    row.file_path
                    == f"{show.title} (2020)/Season {season:02}/{show.title} - S{season:02}E{number:02}.mkv"
                )
    assert ScannedDirectory.objects.count() == 7  # root, 2 series folders, 4 season folders

    again = scan(tmp_path, full=True)
    assert (again.episodes_created, again.episodes_found, again.episodes_lost) == (0, 0, 0)
    (tmp_path / "Batch 2 (2020)/Season 02/Batch 2 - S02E03.mkv").unlink()
    assert scan(tmp_path, full=True).episodes_lost == 1
    assert episode(shows[1], 2, 3).state == EpisodeState.MISSING
