"""Every selector of both providers against the fake site's pages (the parser corpus in tests/fakesite/pages)."""

from __future__ import annotations

import httpx
import pytest

from apps.catalog import services
from apps.catalog.http import Page
from apps.catalog.providers import provider_for
from apps.catalog.types import Language, LayoutChanged, NotFoundOnSite, Site, SiteBlocking
from tests.fakesite.catalog import HOSTER_NAMES, HOSTILE_TITLE


def test_search_merges_both_sites_and_cleans_titles(fake_catalog):
    results = services.search("moon")
    assert [(r.site, r.slug, r.title) for r in results] == [(Site.ANIWORLD, "moonlit-blade", "Moonlit Blade")]
    result = results[0]
    assert result.url == f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade"
    assert result.cover_url == f"{fake_catalog.aniworld_url}/public/img/cover/moonlit-blade.png"
    assert "Tom & Jerry" in result.description  # entities decoded
    stats = fake_catalog.stats()["requests"]
    assert stats["/aw/ajax/search"] == 1 and stats["/sto/api/search/suggest"] == 1


def test_search_decodes_entities_and_drops_non_series_links(fake_catalog):
    results = services.search("steel", Site.ANIWORLD)
    assert [r.title for r in results] == ["Spirit & Steel"]  # "&amp;" and <em> gone; the genre entry dropped


def test_search_one_site(fake_catalog):
    results = services.search("harbor", Site.STO)
    assert [(r.site, r.slug, r.title) for r in results] == [(Site.STO, "harbor-lights", "Harbor Lights")]
    assert "/sto/api/search/suggest" in fake_catalog.stats()["requests"]
    assert "/aw/ajax/search" not in fake_catalog.stats()["requests"]


def test_search_falls_back_to_the_older_endpoint(fake_catalog):
    fake_catalog.set_scenario(broken_search=True)
    results = services.search("moonlit", Site.ANIWORLD)
    assert [(r.slug, r.title, r.year) for r in results] == [("moonlit-blade", "Moonlit Blade", 2019)]
    assert fake_catalog.stats()["requests"]["/aw/ajax/seriesSearch"] == 1


def test_search_ranks_exact_matches_first(fake_catalog):
    results = services.search("Harbor Lights")
    assert results[0].title == "Harbor Lights"


def test_series_details(fake_catalog):
    details = services.fetch_series(Site.ANIWORLD, "moonlit-blade")
    assert details.title == "Moonlit Blade"
    assert details.alternative_titles == ("Gekkou no Tsurugi", "月光の剣")
    assert (details.year_start, details.year_end) == (2019, 2022)
    assert details.description.startswith("A swordswoman") and "Tom & Jerry" in details.description
    assert details.genres == ("Action", "Fantasy", "Abenteuer")
    assert details.cover_url == f"{fake_catalog.aniworld_url}/public/img/cover/moonlit-blade.png"
    assert (details.imdb_id, details.fsk, details.rating) == ("tt1234567", 12, 4.5)
    assert details.seasons == (0, 1, 2) and details.has_films is True
    assert details.url == f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade"


def test_series_still_running_has_no_end_year(fake_catalog):
    details = services.fetch_series(Site.ANIWORLD, "spirit-and-steel")
    assert (details.title, details.year_start, details.year_end) == ("Spirit & Steel", 2024, None)
    assert details.seasons == (1,) and details.has_films is False


def test_sto_series(fake_catalog):
    details = services.fetch_series(Site.STO, "harbor-lights")
    assert (details.site, details.title, details.seasons, details.has_films) == (
        Site.STO,
        "Harbor Lights",
        (1, 2),
        False,
    )
    assert details.genres == ("Drama", "Mystery") and details.imdb_id == "tt2222222"


def test_episodes_of_a_season_with_titles_and_languages(fake_catalog):
    episodes = services.fetch_episodes(Site.ANIWORLD, "moonlit-blade", 1)
    assert [(e.season, e.number) for e in episodes] == [(1, 1), (1, 2), (1, 3)]
    first, second, third = episodes
    assert (first.title_de, first.title_en) == ("Der erste Schnitt", "The First Cut")
    assert first.languages == (Language.GERMAN_DUB, Language.GERMAN_SUB, Language.ENGLISH_SUB)
    assert (second.title_de, second.title_en, second.languages) == (
        "Mondlicht & Stahl",
        "Moonlight & Steel",
        (Language.GERMAN_SUB,),
    )
    assert (third.title_de, third.title_en) == ("", "Silent Night")  # empty German title stays empty
    assert first.url == f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade/staffel-1/episode-1"


def test_films_are_season_zero(fake_catalog):
    films = services.fetch_episodes(Site.ANIWORLD, "moonlit-blade", 0)
    assert [(f.season, f.number, f.title_en) for f in films] == [(0, 1, "The Movie: New Moon"), (0, 2, "OVA: Eclipse")]
    assert films[0].url.endswith("/anime/stream/moonlit-blade/filme/film-1")


def test_sto_has_no_films_section(fake_catalog):
    with pytest.raises(NotFoundOnSite, match="no films"):
        services.fetch_episodes(Site.STO, "harbor-lights", 0)


def test_episode_sources_languages_and_hosters(fake_catalog):
    sources = services.fetch_episode_sources(Site.ANIWORLD, "moonlit-blade", 1, 1)
    assert sources.languages == (Language.GERMAN_DUB, Language.GERMAN_SUB, Language.ENGLISH_SUB)
    assert (sources.episode.title_de, sources.episode.title_en) == ("Der erste Schnitt", "The First Cut")
    every = 3 * len(HOSTER_NAMES)  # three languages, every hoster once (the <li> matches both selectors)
    assert len(sources.hosters) == len({link.link_id for link in sources.hosters}) == every
    first = sources.hosters[0]
    assert (first.hoster, first.language, first.link_id) == ("VOE", Language.GERMAN_DUB, "1001")
    assert first.redirect_url == f"{fake_catalog.aniworld_url}/redirect/1001"
    assert {link.hoster for link in sources.hosters} == set(HOSTER_NAMES)
    assert {link.language for link in sources.hosters} == set(sources.languages)


def test_film_sources(fake_catalog):
    sources = services.fetch_episode_sources(Site.ANIWORLD, "moonlit-blade", 0, 2)
    assert sources.episode.season == 0 and sources.episode.title_en == "OVA: Eclipse"
    assert sources.languages == (Language.GERMAN_SUB,)


def test_sto_newer_hoster_layout(fake_catalog):
    """The fake s.to's older layout with data-play-url buttons (the current one: tests/catalog/test_sto_layout.py)."""
    fake_catalog.set_scenario(sto_layout="classic")
    sources = services.fetch_episode_sources(Site.STO, "harbor-lights", 1, 3)
    assert (sources.episode.title_de, sources.episode.title_en) == ("Sturm", "Storm")  # from "S01E03: Sturm (Storm)"
    assert sources.languages == (Language.ENGLISH_DUB, Language.GERMAN_SUB)
    link = sources.hosters[0]
    assert link.redirect_url.startswith(f"{fake_catalog.sto_url}/r?t=tok")
    assert link.link_id.isdigit()


def test_sto_classic_layout_is_read_too(fake_catalog):
    """s.to still serving the aniworld-style list: language key 2 there means English dub."""
    html = httpx.get(f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade/staffel-1/episode-1").text
    page = Page("https://s.to/serie/stream/x/staffel-1/episode-1", 200, httpx.Headers(), html.encode())
    sources = provider_for(Site.STO).parse_episode_sources(page, "x", 1, 1)
    assert len(sources.hosters) == 3 * len(HOSTER_NAMES)
    assert sources.languages == (Language.GERMAN_DUB, Language.GERMAN_SUB, Language.ENGLISH_SUB)  # read from flags


def test_unknown_series_is_not_found(fake_catalog):
    with pytest.raises(NotFoundOnSite, match="404"):
        services.fetch_series(Site.ANIWORLD, "does-not-exist")
    with pytest.raises(NotFoundOnSite):
        services.fetch_episode_sources(Site.ANIWORLD, "moonlit-blade", 1, 99)


def test_hostile_titles_come_through_as_plain_text(fake_catalog):
    details = services.fetch_series(Site.ANIWORLD, "hostile-title")
    assert len(details.title) > 300
    assert "../../etc/passwd" in details.title and '<script>alert("pwned")</script>' in details.title
    assert "🎌" in details.title
    assert not any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in details.title)  # control characters dropped
    episodes = services.fetch_episodes(Site.ANIWORLD, "hostile-title", 1)
    assert episodes[0].title_de == "../../../tmp/escape"
    assert "\x00" not in episodes[0].title_en and len(episodes[0].title_en) > 300


def test_hostile_titles_scenario_affects_every_title(fake_catalog):
    fake_catalog.set_scenario(hostile_titles=True)
    assert "../../etc/passwd" in services.fetch_series(Site.STO, "harbor-lights").title
    assert services.search("harbor", Site.STO)[0].title.startswith("../../etc/passwd")
    sources = services.fetch_episode_sources(Site.ANIWORLD, "moonlit-blade", 1, 1)
    assert sources.episode.title_de == "../../../tmp/escape"
    clean = HOSTILE_TITLE.replace("\x07", "").replace("\x1b", "")
    assert services.fetch_series(Site.ANIWORLD, "moonlit-blade").title == " ".join(clean.split())


@pytest.mark.parametrize(
    ("call", "missing"),
    [
        (lambda: services.fetch_series(Site.ANIWORLD, "moonlit-blade"), "series title"),
        (lambda: services.fetch_episodes(Site.ANIWORLD, "moonlit-blade", 1), "episode table"),
        (lambda: services.fetch_episode_sources(Site.ANIWORLD, "moonlit-blade", 1, 1), "hoster entry"),
        (lambda: services.fetch_episode_sources(Site.STO, "harbor-lights", 1, 1), "hoster list"),
    ],
)
def test_broken_layout_raises_layout_changed(fake_catalog, call, missing):
    fake_catalog.set_scenario(broken_layout=True)
    with pytest.raises(LayoutChanged) as caught:
        call()
    message = str(caught.value)
    assert message.startswith("site layout changed:") and missing in message
    assert any(f"{fake_catalog.site_url(site)}/" in message for site in Site)  # the page it looked at


@pytest.mark.parametrize("body", ["", "<html><body><p>Wartungsarbeiten</p></body></html>", "{not html"])
def test_garbage_pages_never_raise_attribute_errors(body):
    provider = provider_for(Site.ANIWORLD)
    page = Page("https://aniworld.to/anime/stream/x", 200, httpx.Headers(), body.encode())
    for parse in (
        lambda: provider.parse_series(page, "x"),
        lambda: provider.parse_episodes(page, "x", 1),
        lambda: provider.parse_episode_sources(page, "x", 1, 1),
    ):
        with pytest.raises(LayoutChanged):
            parse()


def test_hoster_entry_missing_parts_is_layout_changed():
    html = (
        '<div class="changeLanguageBox"><img data-lang-key="1" src="/public/img/german.svg"></div>'
        '<ul class="row"><li class="hoster" data-lang-key="1" data-link-id="5" data-link-target="/redirect/5">'
        "<a class='watchEpisode'></a></li></ul>"
    )
    page = Page("https://aniworld.to/anime/stream/x/staffel-1/episode-1", 200, httpx.Headers(), html.encode())
    with pytest.raises(LayoutChanged, match="complete hoster entry"):
        provider_for(Site.ANIWORLD).parse_episode_sources(page, "x", 1, 1)


def test_search_answering_garbage_is_layout_changed(fake_catalog, monkeypatch):
    monkeypatch.setenv("ANIWORLD_ANIWORLD_URL", fake_catalog.base_url + "/hoster")  # no /ajax endpoints there
    with pytest.raises(LayoutChanged, match="JSON list"):
        provider_for(Site.ANIWORLD).search("moon")


@pytest.mark.parametrize("variant", ["block_prefix", "challenge_prefix"])  # DDoS-Guard's 403, and its 200 challenge
def test_both_ddos_guard_variants_are_a_block_not_a_layout_change(fake_catalog, variant):
    fake_catalog.set_scenario(**{variant: "/aw/"})
    with pytest.raises(SiteBlocking, match=r"aniworld\.to is blocking us"):
        services.fetch_series(Site.ANIWORLD, "moonlit-blade")


def test_season_table_entities_and_empty_titles(fake_catalog):
    html = httpx.get(f"{fake_catalog.aniworld_url}/anime/stream/spirit-and-steel/staffel-1").text
    assert "&amp;" in html and "&lt;Stahl&gt;" in html and "&#x27;" in html and "<span></span>" in html
    first, second = services.fetch_episodes(Site.ANIWORLD, "spirit-and-steel", 1)
    assert (first.title_de, first.title_en) == ('Anfang: "Geist" & <Stahl>', "The Pilot's Beginning")
    assert (second.title_de, second.title_en) == ("Ende", "")  # an empty English title stays empty
