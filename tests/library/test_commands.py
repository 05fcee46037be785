"""Management commands: scan and import (against the fake catalog site)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.library import services
from apps.library.models import Episode, EpisodeState, Series


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"data")


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_scan_command_prints_summary_and_problems(library, make_series, tmp_path):
    make_series("Show", year=2020)
    touch(library / "Show (2020)" / "Season 01" / "Show - S01E01.mkv")
    touch(library / "Unknown" / "x.mkv")
    (library / "Show (2020)" / "Escape").symlink_to(tmp_path)
    text = run("scan", "--quiet-progress")
    assert "1 episode files found" in text
    assert "1 files not placed" in text
    assert "Show (2020)/Escape: symlink points outside the library" in text


def test_scan_command_refuses_while_running(library):
    with services.scan_lock("test"), pytest.raises(CommandError, match="already running"):
        call_command("scan")


def test_import_whole_library_from_fake_site(library, fake_catalog):
    fake_catalog.set_scenario(sto_layout="classic")  # s.to's current series page names no alternative titles
    touch(library / "Moonlit Blade (2019)" / "Season 01" / "Moonlit Blade - S01E02.mkv")
    touch(library / "Moonlit Blade (2019)" / "Specials" / "Moonlit Blade - Film 1 [GerSub].mkv")
    touch(library / "Hafenlichter (2015)" / "Staffel 1" / "Hafenlichter 1x03.mp4")
    touch(library / "Something Else" / "x.mkv")

    preview = run("import", str(library), "--dry-run")
    assert "Moonlit Blade (2019): would add - would add aniworld:moonlit-blade" in preview
    assert "Something Else: not found" in preview
    assert not Series.objects.exists()

    text = run("import", str(library))
    moonlit = Series.objects.get(slug="moonlit-blade")
    assert moonlit.folder == "Moonlit Blade (2019)"
    assert "Moonlit Blade (2019): added" in text
    assert "Scanned: 3 episode files found" in text
    second = Episode.objects.get(season__series=moonlit, season__number=1, number=2)
    assert (second.state, second.title_de) == (EpisodeState.PRESENT, "Mondlicht & Stahl")
    film = Episode.objects.get(season__series=moonlit, season__number=0, number=1)
    assert (film.state, film.file_language) == (EpisodeState.PRESENT, "de-sub")
    # "Hafenlichter" is an alternative title of s.to's "Harbor Lights": matched through the series page.
    harbor = Series.objects.get(slug="harbor-lights")
    assert (harbor.site, harbor.folder) == ("sto", "Hafenlichter (2015)")
    assert Episode.objects.get(season__series=harbor, season__number=1, number=3).state == EpisodeState.PRESENT
    assert "Something Else: not found" in text

    again = run("import", str(library / "Moonlit Blade (2019)"), "--no-scan")
    assert "already in library" in again


def test_import_refuses_folders_outside_or_deep(library, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    with pytest.raises(CommandError, match="directly inside the library folder"):
        call_command("import", str(outside))
    deep = library / "a" / "b"
    deep.mkdir(parents=True)
    with pytest.raises(CommandError, match="directly inside the library folder"):
        call_command("import", str(deep))
    with pytest.raises(CommandError, match="not a folder"):
        call_command("import", str(tmp_path / "missing"))
