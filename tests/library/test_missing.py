"""Missing / upgradable logic with language ranks, the new-episode check, and the missing command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from apps.catalog.types import Language
from apps.library import selectors, services
from apps.library.models import Episode
from apps.library.selectors import EpisodeStatus, assess_episode

DEFAULT = selectors.DEFAULT_LANGUAGE_PREFERENCE
DE, DE_SUB, EN_SUB, EN = Language.GERMAN_DUB, Language.GERMAN_SUB, Language.ENGLISH_SUB, Language.ENGLISH_DUB


def make(state="missing", file_language=None, offered=(), file_path=None) -> Episode:
    return Episode(
        number=1,
        state=state,
        file_language=file_language,
        languages_available=[language.value for language in offered],
        file_path=file_path if file_path is not None else ("f.mkv" if state == "present" else ""),
    )


@pytest.mark.parametrize(
    ("episode", "preference", "status", "best"),
    [
        (make(offered=[DE_SUB, EN_SUB]), DEFAULT, EpisodeStatus.MISSING, DE_SUB),
        (make(offered=[]), DEFAULT, EpisodeStatus.MISSING, None),  # not refreshed yet: still missing
        (make(offered=[EN]), DEFAULT, EpisodeStatus.UNAVAILABLE, None),
        (make(offered=[EN]), (EN, DE), EpisodeStatus.MISSING, EN),
        (make("present", "en-sub", [DE, EN_SUB]), DEFAULT, EpisodeStatus.UPGRADABLE, DE),
        (make("present", "de-sub", [DE_SUB, EN_SUB]), DEFAULT, EpisodeStatus.PRESENT, DE_SUB),
        (make("present", "de", [DE, DE_SUB]), DEFAULT, EpisodeStatus.PRESENT, DE),
        (make("present", "de-sub", [DE]), (DE_SUB, DE), EpisodeStatus.PRESENT, DE),
        (make("present", "en", [DE_SUB]), DEFAULT, EpisodeStatus.UPGRADABLE, DE_SUB),  # unwanted file language
        (make("present", None, [DE]), DEFAULT, EpisodeStatus.PRESENT, DE),  # unknown language: cannot tell
        (make("ignored", offered=[DE]), DEFAULT, EpisodeStatus.IGNORED, DE),
        (make("queued", offered=[DE]), DEFAULT, EpisodeStatus.QUEUED, DE),
        (make("downloading", offered=[DE]), DEFAULT, EpisodeStatus.DOWNLOADING, DE),
    ],
)
def test_assess_episode(episode, preference, status, best):
    assessment = assess_episode(episode, preference)
    assert (assessment.status, assessment.best_language) == (status, best)
    assert assessment.reason


def test_language_rank_and_preference_sources(make_series, settings):
    assert selectors.language_rank("de", DEFAULT) == 0
    assert selectors.language_rank("en-sub", DEFAULT) == 2
    assert selectors.language_rank("en", DEFAULT) is None
    assert selectors.language_rank(None, DEFAULT) is None
    series = make_series(language_preference=["en-sub", "bogus", "en-sub", "de"])
    assert selectors.language_preference(series) == (EN_SUB, DE)
    plain = make_series("Other")
    assert selectors.language_preference(plain) == DEFAULT


def test_configured_preference_is_used(make_series, monkeypatch):
    from apps.configuration import selectors as configuration

    monkeypatch.setattr(configuration, "language_preference", lambda: [EN_SUB])
    assert selectors.language_preference(make_series()) == (EN_SUB,)


def test_missing_report_and_command(library, make_series, make_episode):
    titan = make_series("Attack on Titan", year=2013)
    make_episode(titan, 1, 1, title_de="Eins", languages_available=["de"])
    make_episode(titan, 1, 2, state="present", file_path="x.mkv", file_language="en-sub", languages_available=["de"])
    make_episode(titan, 1, 3, state="ignored")
    complete = make_series("Complete Show")
    make_episode(complete, 1, 1, state="present", file_path="y.mkv", file_language="de", languages_available=["de"])

    report = selectors.missing_episodes()
    assert list(report) == [titan]
    assert [entry.assessment.status for entry in report[titan]] == ["missing", "upgradable"]
    assert [e.assessment.status for e in selectors.missing_episodes(include_upgradable=False)[titan]] == ["missing"]

    out = StringIO()
    call_command("missing", stdout=out)
    text = out.getvalue()
    assert "Attack on Titan (2013) [aniworld:attack-on-titan] - 1 missing, 1 upgradable" in text
    assert "S01E01  Eins" in text and "missing (best offered: German Dub)" in text
    assert "S01E02" in text and "upgradable: file is English Sub, site now offers German Dub" in text
    assert "Complete Show" not in text
    assert "Total: 1 missing, 1 upgradable in 1 series." in text

    quiet = StringIO()
    call_command("missing", "complete", stdout=quiet)
    assert "Nothing is missing." in quiet.getvalue()


def test_missing_command_refreshes_from_fake_site(library, make_series, fake_catalog):
    make_series("Spirit & Steel", slug="spirit-and-steel")
    out = StringIO()
    call_command("missing", "--refresh", stdout=out)
    text = out.getvalue()
    assert "S01E01  Anfang" in text
    assert "S01E02  Ende" in text
    assert "Total: 2 missing" in text


def test_refresh_respects_max_age(library, make_series, fake_catalog):
    series = make_series("Spirit & Steel", slug="spirit-and-steel")
    assert services.refresh_series(series, max_age=services.CATALOG_REFRESH_MAX_AGE)["refreshed"] is True
    series.refresh_from_db()
    requests_before = sum(fake_catalog.stats()["requests"].values())
    again = services.refresh_series(series, max_age=services.CATALOG_REFRESH_MAX_AGE)
    assert again["refreshed"] is False
    assert sum(fake_catalog.stats()["requests"].values()) == requests_before


def test_check_for_new_episodes_names_the_new_missing_ones(library, make_series, make_episode, fake_catalog):
    series = make_series("Spirit & Steel", slug="spirit-and-steel")
    make_episode(series, 1, 1, state="present", file_path="a.mkv", file_language="de-sub")
    make_series("Not Watched", slug="not-watched", monitored=False)
    result = services.check_for_new_episodes()
    assert result["new_episodes"] == 1
    assert result["series"] == ["Spirit & Steel"]
    assert result["missing_episode_ids"] == [Episode.objects.get(season__series=series, number=2).pk]
    assert result["errors"] == []
    assert services.check_for_new_episodes()["new_episodes"] == 0


def test_check_for_new_episodes_reports_failing_series(library, make_series, fake_catalog):
    make_series("Gone", slug="no-such-series")
    result = services.check_for_new_episodes()
    assert result["new_episodes"] == 0
    assert result["errors"][0]["series"] == "Gone"
