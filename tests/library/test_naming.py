"""Naming: hostile titles can never produce unsafe names or leave the library root."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.library import naming
from apps.library.naming import DEFAULT_TEMPLATE, NamingContext, TemplateError, UnsafePathError

FORBIDDEN = set('<>:"/\\|?*')
RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}

hostile_text = st.lists(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from([*'/\\.:*?<>|"\x00\x1f\x7f \u202e\u200d', "..", "CON", "🎌", "👨\u200d👩\u200d👧", "日本語"]),
    ),
    max_size=300,
).map("".join)


def assert_safe_component(part: str) -> None:
    assert part and part not in {".", ".."}
    assert not FORBIDDEN & set(part)
    assert not any(unicodedata.category(char) == "Cc" for char in part)
    assert not part.endswith((" ", ".")) and not part.startswith(" ")
    assert len(part.encode("utf-8")) <= 255 and len(part.encode("utf-16-le")) <= 510
    assert part.split(".")[0].strip().upper() not in RESERVED


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_text)
def test_sanitize_component_is_always_safe(text):
    assert_safe_component(naming.sanitize_component(text))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(title=hostile_text, episode_title=hostile_text, season=st.integers(0, 999), number=st.integers(0, 9999))
def test_rendered_paths_stay_inside_the_root(tmp_path, title, episode_title, season, number):
    context = NamingContext(series_title=title, season=season, episode=number, episode_title_de=episode_title)
    relative = naming.render_relative(DEFAULT_TEMPLATE, context, "mkv")
    parts = relative.split("/")
    assert len(parts) == 3
    for part in parts:
        assert_safe_component(part)
    assert parts[1] == f"Season {season:02}"
    assert f"S{season:02}E{number:02}" in parts[2]
    resolved = naming.resolve_inside(tmp_path, relative)
    assert resolved.is_relative_to(tmp_path.resolve())


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Re:Zero", "Re-Zero"),
        ("Steins;Gate: The Movie", "Steins;Gate - The Movie"),
        ("Fate/Zero", "Fate-Zero"),
        ("What?!", "What!"),
        ("con", "_con"),
        ("LPT1.txt", "_LPT1.txt"),
        ("Trailing dots...", "Trailing dots"),
        ("  spaced   out  ", "spaced out"),
        ("...", "_"),
        ("🎌 Emoji OK 🔥", "🎌 Emoji OK 🔥"),
        ("tab\tand\nnewline", "tab and newline"),
        ("rtl \u202eevil", "rtl evil"),
    ],
)
def test_sanitize_examples(title, expected):
    assert naming.sanitize_component(title) == expected


def test_long_names_are_cut_by_bytes_without_breaking_characters():
    cut = naming.sanitize_component("日本語" * 200)
    assert len(cut.encode("utf-8")) <= naming.MAX_COMPONENT_BYTES
    assert cut == "日本語" * (len(cut) // 3) + "日本語"[: len(cut) % 3]
    family = naming.sanitize_component("a" * 195 + "👨‍👩‍👧")
    assert not family.endswith("\u200d")


def test_default_template_and_missing_parts():
    context = NamingContext(series_title="Show", year=None, season=1, episode=2)
    assert naming.render_relative(DEFAULT_TEMPLATE, context, "mp4") == "Show/Season 01/Show - S01E02.mp4"


def test_preview_shows_episode_and_film():
    shown = naming.preview(DEFAULT_TEMPLATE)
    assert shown["episode"].startswith("Re-Zero - Starting Life in Another World (2016)/Season 01/")
    assert shown["episode"].endswith(" - S01E03 - Neuanfang in der Endlosschleife.mkv")
    assert "/Season 00/" in shown["film"] and " - S00E01 - " in shown["film"]
    custom = naming.preview("{series_title}/S{season}/{episode:03} {episode_title_en} [{language}]")
    assert custom["episode"].endswith("/S1/003 Starting Over From Zero [German Dub].mkv")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("", "empty"),
        ("{series_title} - {episode}", "series folder and a file name"),
        ("{series_title}/{sesaon}/{episode}", "Unknown placeholder {sesaon}"),
        ("{series_title}/{season}/{episode.__class__}", "Unknown placeholder"),
        ("{series_title}/{season}/{}", "empty placeholder"),
        ("{series_title}/{season}/{episode!r}", "Conversions"),
        ("{series_title}/{season:x>q}/{episode}", "format"),
        ("{series_title}/{season}/{episode", "unbalanced braces"),
        ("/{series_title}/{season}/{episode}", "relative"),
        ("{series_title}/../{season}{episode}", "'..'"),
        ("{series_title}//{season}{episode}", "empty"),
        ("{series_title}\\{season}{episode}", "'/'"),
        ("{series_title}/Season {season}/{series_title}", "must contain {episode}"),
        ("{series_title}/{episode}", "must contain {season}"),
        ("{series_title}/{season}: {episode}", "not allowed"),
    ],
)
def test_template_validation_messages(template, message):
    with pytest.raises(TemplateError, match=message.replace("{", r"\{").replace("(", r"\(").replace("[", r"\[")):
        naming.validate_template(template)


def test_resolve_inside_refuses_escapes(tmp_path):
    root = tmp_path / "lib"
    root.mkdir()
    for relative in ["../x", "a/../../x", "/etc/passwd", ".", ""]:
        with pytest.raises(UnsafePathError):
            naming.resolve_inside(root, relative)
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(UnsafePathError, match="outside the library"):
        naming.resolve_inside(root, "link/file.mkv")
    assert naming.resolve_inside(root, "a/b.mkv") == root.resolve() / "a" / "b.mkv"


@pytest.mark.parametrize("extension", ["", "mk v", "../mkv", "verylongext", "mkv/"])
def test_bad_extensions(extension):
    context = NamingContext(series_title="S", season=1, episode=1)
    with pytest.raises(UnsafePathError):
        naming.render_relative(DEFAULT_TEMPLATE, context, extension)


def test_series_folder_name_uses_first_template_part():
    assert naming.series_folder_name(DEFAULT_TEMPLATE, "A/B: C", 2001) == "A-B - C (2001)"
    assert naming.series_folder_name("{slug}/{season}/{episode}", "T", None, slug="the-slug") == "the-slug"
    assert Path(naming.series_folder_name(DEFAULT_TEMPLATE, "..", None)).name not in {".", ".."}


LONG_TITLE = "The Reincarnated Villainess Who Was Definitely Not Evil " * 6  # about 330 characters


@pytest.mark.parametrize(
    "title", [LONG_TITLE[:300], ("日本語のとても長いタイトル" * 30)[:300], "👨\u200d👩\u200d👧" * 100]
)
def test_long_titles_are_shortened_but_never_the_episode_marker(title):
    paths = []
    for number in (8, 9):
        context = NamingContext(
            series_title=title, year=2024, season=1, episode=number, episode_title_de=title[::-1], language="German Dub"
        )
        relative = naming.render_relative(DEFAULT_TEMPLATE, context, "mkv")
        folder, season_folder, file_name = relative.split("/")
        assert season_folder == "Season 01"
        assert f" - S01E{number:02} - " in file_name and file_name.endswith(".mkv")
        for part in (folder, file_name):
            assert_safe_component(part)
            assert len(part.encode("utf-8")) <= naming.MAX_COMPONENT_BYTES + len(".mkv")
        assert folder.endswith("(2024)")  # the year is kept too: only the titles are shortened
        paths.append(relative)
    assert paths[0] != paths[1]


def test_titles_share_the_room_instead_of_one_eating_it():
    context = NamingContext(series_title="S" * 300, season=1, episode=2, episode_title_de="E" * 300)
    stem = naming.render_relative(DEFAULT_TEMPLATE, context, "mkv").split("/")[-1].removesuffix(".mkv")
    series_part, marker, episode_part = stem.split(" - ")
    assert marker == "S01E02"
    assert abs(len(series_part) - len(episode_part)) <= 1 and len(series_part) > 80


def test_a_template_whose_fixed_text_is_too_long_is_refused():
    template = "{series_title}/" + "x" * 250 + " {season} {episode}"
    with pytest.raises(TemplateError, match="too long"):
        naming.validate_template(template)


def test_a_hostile_long_title_stays_one_component_inside_the_root(tmp_path):
    hostile = ("../" * 40) + "\x00evil\u202e/..\\" + "x" * 300
    context = NamingContext(series_title=hostile, season=1, episode=8, episode_title_de="/../\x00\u202e" * 50)
    relative = naming.render_relative(DEFAULT_TEMPLATE, context, "mkv")
    parts = relative.split("/")
    assert len(parts) == 3 and "S01E08" in parts[2]
    for part in parts:
        assert_safe_component(part)
        assert "\x00" not in part and "\u202e" not in part
    assert naming.resolve_inside(tmp_path, relative).is_relative_to(tmp_path.resolve())


def test_a_unique_suffix_survives_a_long_folder_name():
    name = naming.sanitize_component("A" * 300)
    unique = naming.with_suffix(name, "[aniworld-some-slug]")
    assert unique.endswith(" [aniworld-some-slug]")
    assert len(unique.encode("utf-8")) <= naming.MAX_COMPONENT_BYTES
