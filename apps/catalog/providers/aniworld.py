"""aniworld.to (anime, with films/specials as season 0): every URL pattern and selector of the site.

The markup is summarised in docs/architecture.md ("Catalog facts") and mirrored
by tests/fakesite; the defaults of :class:`Layout` are this site's selectors,
spelled out here so a change on the site is a change here.
"""

from __future__ import annotations

import re

from apps.catalog.providers.base import SLUG, Layout, StreamSiteProvider
from apps.catalog.types import Language, Site

LAYOUT = Layout(
    site=Site.ANIWORLD,
    label="aniworld.to",
    known_domains=("aniworld.to",),
    series_path="/anime/stream/{slug}",
    series_link=re.compile(rf"^/anime/stream/({SLUG})/?$"),
    reference=re.compile(rf"/anime/stream/({SLUG})(?:/|$)"),
    language_keys={
        "1": Language.GERMAN_DUB,
        "2": Language.ENGLISH_SUB,
        "3": Language.GERMAN_SUB,
        "4": Language.ENGLISH_DUB,
    },
    has_films=True,
    season_path="{series}/staffel-{season}",
    films_path="{series}/filme",
    episode_path="{series}/staffel-{season}/episode-{number}",
    film_path="{series}/filme/film-{number}",
    search_path="/ajax/search",
    legacy_search_path="/ajax/seriesSearch",
    title="div.series-title > h1 > span",
    title_heading="div.series-title > h1",
    alternative_titles_attr="data-alternativetitles",
    start_year="[itemprop=startDate]",
    end_year="[itemprop=endDate]",
    description="p.seri_des",
    description_attr="data-full-description",
    genres="div.genres ul a[itemprop=genre], div.genres a[itemprop=genre]",
    cover="div.seriesCoverBox img",
    imdb="[data-imdb]",
    fsk="[data-fsk]",
    rating="[itemprop=ratingValue]",
    season_nav="div.hosterSiteDirectNav#stream > ul",
    episode_table="table.seasonEpisodesList",
    episode_rows='tr[itemtype="http://schema.org/Episode"]',
    episode_number="meta[itemprop=episodeNumber]",
    episode_link="a[itemprop=url]",
    episode_title_cell="td.seasonEpisodeTitle",
    episode_title_de="span.episodeGermanTitle",
    episode_title_en="small.episodeEnglishTitle",
    language_box="div.changeLanguageBox",
    language_flags="div.changeLanguageBox img[data-lang-key]",
    hosters="li.hoster[data-link-target], li[data-lang-key][data-link-id]",
    hoster_name="h4",
    hoster_icon="i.icon",
    hoster_anchor="a.watchEpisode",
)


class AniworldProvider(StreamSiteProvider):
    layout = LAYOUT
