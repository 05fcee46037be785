"""s.to: the current (2026) layout and the older one, both served by the fake site; search, pages, /r?t= blocks."""

from __future__ import annotations

import httpx
import pytest

from apps.catalog import blocks, services
from apps.catalog.http import Page
from apps.catalog.providers import provider_for
from apps.catalog.types import Language, LayoutChanged, MediaKind, Site, SiteBlocking
from tests.fakesite.catalog import HOSTER_NAMES

DE, EN, DE_SUB = Language.GERMAN_DUB, Language.ENGLISH_DUB, Language.GERMAN_SUB
LAYOUTS = ["current", "classic"]


@pytest.fixture(params=LAYOUTS)
def sto_site(request, fake_catalog):
    fake_catalog.set_scenario(sto_layout=request.param)
    return fake_catalog


def _page(url: str, markup: str) -> Page:
    return Page(url, 200, httpx.Headers({"content-type": "text/html"}), markup.encode())


def test_fake_site_serves_the_current_markup(fake_catalog):
    """The pages carry what the research notes record (classes, onclick rows, svg flags, varied attribute order)."""
    base = f"{fake_catalog.sto_url}/serie/harbor-lights"
    series = httpx.get(base).text
    assert '<h1 class="h2 mb-1 fw-bold">Harbor Lights</h1>' in series and 'nav id="season-nav"' in series
    season = httpx.get(f"{base}/staffel-1").text
    assert "onclick=\"window.location='/serie/harbor-lights/staffel-1/episode-1'\"" in season
    assert 'class="watch-language svg-flag-german"' in season and "seasonEpisodesList" not in season
    episode = httpx.get(f"{fake_catalog.sto_url}/serie/harbor-lights/staffel-1/episode-3").text
    assert "S01E03: Sturm (Storm)" in episode and 'data-provider-name="Provider"' in episode
    assert 'class="link-box btn btn-sm btn-outline-light" data-play-url=' in episode
    assert 'class="link-box btn btn-sm btn-outline-light" data-language-label=' in episode  # another order
    assert 'data-language-label="Ger-Sub"' in episode and "svg-flag-english-german" in episode


def test_series_details_in_both_layouts(sto_site):
    details = services.fetch_series(Site.STO, "harbor-lights")
    assert (details.title, details.year_start, details.year_end) == ("Harbor Lights", 2015, 2018)
    assert details.description == "Lighthouse keepers and their secrets."
    assert details.genres == ("Drama", "Mystery") and details.imdb_id == "tt2222222" and details.fsk == 12
    assert details.seasons == (1, 2) and details.has_films is False
    assert details.url == f"{sto_site.sto_url}/serie/harbor-lights"
    assert httpx.get(details.cover_url).headers["content-type"] == "image/png"  # the lazy data-src, not the 1x1 GIF
    running = services.fetch_series(Site.STO, "from-and-beyond")
    assert running.title == "From & Beyond" and running.year_end is None  # "NA" while the series runs


def test_season_rows_in_both_layouts(sto_site):
    episodes = services.fetch_episodes(Site.STO, "harbor-lights", 1)
    assert [(e.number, e.title_de, e.title_en, e.languages) for e in episodes] == [
        (1, "Pilot", "Pilot", (DE, EN)),
        (2, "Nebel", "Fog", (DE,)),
        (3, "Sturm", "Storm", (EN, DE_SUB)),  # svg-flag-english-german is German subtitles, not English
    ]
    assert episodes[0].url.endswith("/harbor-lights/staffel-1/episode-1")


def test_episode_sources_in_both_layouts(sto_site):
    sources = services.fetch_episode_sources(Site.STO, "harbor-lights", 1, 3)
    assert (sources.episode.title_de, sources.episode.title_en) == ("Sturm", "Storm")
    assert sources.languages == (EN, DE_SUB)
    assert len(sources.hosters) == 2 * len(HOSTER_NAMES)
    assert {(h.hoster, h.language) for h in sources.hosters} == {
        (n, lang) for n in HOSTER_NAMES for lang in (EN, DE_SUB)
    }
    assert len({h.redirect_url for h in sources.hosters}) == len(sources.hosters)  # each button once
    assert all(h.redirect_url.startswith(f"{sto_site.sto_url}/r?t=") for h in sources.hosters)


def test_current_search_uses_the_json_suggestions(fake_catalog):
    results = services.search("lichter", Site.STO)
    assert [(r.slug, r.title) for r in results] == [
        ("harbor-lights", "Harbor Lights"),
        ("from-and-beyond", "From & Beyond"),
    ]
    assert results[0].url == f"{fake_catalog.sto_url}/serie/harbor-lights"
    requests = fake_catalog.stats()["requests"]
    assert (
        requests["/sto/api/search/suggest"] == 1 and "/sto/suche" not in requests and "/sto/ajax/search" not in requests
    )


def test_search_falls_back_to_the_html_search_pages(fake_catalog):
    fake_catalog.set_scenario(broken_search=True)  # the JSON endpoint answers 404
    results = services.search("lichter", Site.STO)
    assert [(r.slug, r.title) for r in results] == [
        ("harbor-lights", "Harbor Lights"),
        ("from-and-beyond", "From & Beyond"),
    ]
    assert fake_catalog.stats()["requests"]["/sto/suche"] == 2  # one result per page: followed a[rel=next] once


def test_search_falls_back_to_the_older_engine(fake_catalog):
    fake_catalog.set_scenario(sto_layout="classic")
    assert [r.slug for r in services.search("harbor", Site.STO)] == ["harbor-lights"]
    assert fake_catalog.stats()["requests"]["/sto/ajax/search"] == 1


def test_redirect_leads_to_the_hoster(fake_catalog):
    link = next(
        h for h in services.fetch_episode_sources(Site.STO, "harbor-lights", 1, 1).hosters if h.hoster == "Vidoza"
    )
    media = services.resolve_media(link)
    assert media.kind == MediaKind.FILE and "/media/vidoza/" in media.url


def test_redirect_that_stays_on_the_site_is_a_block_for_the_owner(fake_catalog):
    """s.to's /r?t= captcha modal: the site blocking us (remembered, nothing sent until then), not a layout change."""
    link = services.fetch_episode_sources(Site.STO, "harbor-lights", 1, 1).hosters[0]
    fake_catalog.set_scenario(sto_redirect_stays=True)
    with pytest.raises(SiteBlocking) as caught:
        services.resolve_media(link)
    assert "stayed on the site" in str(caught.value) and "browser" in str(caught.value)
    assert blocks.known(Site.STO) is not None
    before = fake_catalog.requests_to("/sto/")
    with pytest.raises(SiteBlocking):
        services.fetch_series(Site.STO, "harbor-lights")
    assert fake_catalog.requests_to("/sto/") == before
    blocks.forget(Site.STO)


@pytest.mark.parametrize(
    ("call", "missing"),
    [
        (lambda: services.fetch_series(Site.STO, "harbor-lights"), "the series title (h1.h2.fw-bold"),
        (lambda: services.fetch_episodes(Site.STO, "harbor-lights", 1), "the episode rows (tr.episode-row)"),
        (lambda: services.fetch_episode_sources(Site.STO, "harbor-lights", 1, 1), "the hoster list"),
    ],
)
def test_broken_current_layout_names_what_is_missing(fake_catalog, call, missing):
    fake_catalog.set_scenario(broken_layout=True)
    with pytest.raises(LayoutChanged) as caught:
        call()
    assert str(caught.value).startswith("site layout changed:") and missing in str(caught.value)
    assert f"{fake_catalog.sto_url}/serie/harbor-lights" in str(caught.value)


@pytest.mark.parametrize(
    "markup",
    [
        # the reference client's fixture: <i> flags and an <a href> instead of onclick
        '<table><tr class="episode-row"><td><a href="/serie/from/staffel-1/episode-1">Episode 1</a></td>'
        '<td><i class="svg-flag-german"></i><i class="svg-flag-english"></i></td></tr></table>',
        # an absolute onclick on another s.to host, flags only as <use href>, entities in the onclick
        '<table><tr class="episode-row upcoming" onclick="window.location=&#39;https://serienstream.cx/serie/from/'
        'staffel-1/episode-1&#39;"><th class="episode-number-cell">1</th><td class="episode-language-cell">'
        '<svg class="watch-language"><use href="#icon-flag-german"></use></svg>'
        '<svg class="watch-language"><use href="#icon-flag-english"></use></svg></td></tr></table>',
    ],
)
def test_season_row_variants(markup):
    episodes = provider_for(Site.STO).parse_episodes(
        _page("https://serienstream.to/serie/from/staffel-1", markup), "from", 1
    )
    assert [(e.number, e.languages) for e in episodes] == [(1, (DE, EN))]
    assert episodes[0].url.endswith("/serie/from/staffel-1/episode-1")


def test_episode_heading_and_placeholder_buttons():
    markup = (
        '<article><h2 class="h4 mb-1">S01E12: Fremde &amp; Freunde </h2><div id="episode-links">'
        '<button data-language-label="Deutsch" data-provider-name="Provider" class="link-box" data-play-url="/r?t=a%3D">'
        '<img src="/storage/providers/voe.svg" alt="VOE"> VOE</button>'
        '<button class="link-box" data-play-url="/r?t=b%3D" data-language-label="Ger-Sub" data-provider-name="Provider">'
        '<img src="/storage/providers/vidoza.svg" alt=""></button></div></article>'
    )
    page = _page("https://serienstream.to/serie/x/staffel-1/episode-12", markup)
    sources = provider_for(Site.STO).parse_episode_sources(page, "x", 1, 12)
    assert (sources.episode.title_de, sources.episode.title_en) == ("Fremde & Freunde", "")
    assert [(h.hoster, h.language) for h in sources.hosters] == [("VOE", DE), ("Vidoza", DE_SUB)]
    assert sources.hosters[0].redirect_url.endswith("/r?t=a%3D") and sources.hosters[0].link_id == "a%3D"
