"""s.to / serienstream.to (series): every URL pattern and selector of the site.

s.to runs the same engine as aniworld.to (``/serie/stream/{slug}``), without a
films section, and with language key 2 meaning English (dubbed). Its newer
layout lists hosters as elements carrying ``data-play-url``,
``data-provider-name`` and ``data-language-label`` with episode headings like
``<h2 class="h4 mb-1">S01E01: German title (English title)</h2>``; both
layouts are read.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

from apps.catalog.providers.base import SLUG, Layout, StreamSiteProvider, node_text
from apps.catalog.types import Language, Site

LAYOUT = Layout(
    site=Site.STO,
    label="s.to",
    known_domains=("s.to", "serienstream.to"),
    series_path="/serie/stream/{slug}",
    series_link=re.compile(rf"^/serie/(?:stream/)?({SLUG})/?$"),
    reference=re.compile(rf"/serie/(?:stream/)?({SLUG})(?:/|$)"),
    language_keys={"1": Language.GERMAN_DUB, "2": Language.ENGLISH_DUB, "3": Language.GERMAN_SUB},
    has_films=False,
    season_path="{series}/staffel-{season}",
    episode_path="{series}/staffel-{season}/episode-{number}",
    search_path="/ajax/search",
    legacy_search_path="/ajax/seriesSearch",
    title="div.series-title > h1 > span",
    title_heading="div.series-title > h1",
    season_nav="div.hosterSiteDirectNav#stream > ul",
    episode_table="table.seasonEpisodesList",
    episode_rows='tr[itemtype="http://schema.org/Episode"]',
    episode_title_de="span.episodeGermanTitle",
    episode_title_en="small.episodeEnglishTitle",
    language_box="div.changeLanguageBox",
    language_flags="div.changeLanguageBox img[data-lang-key]",
    hosters="li.hoster[data-link-target], li[data-lang-key][data-link-id]",
    play_hosters="[data-play-url]",
    play_heading="h2.h4",
)

# "S01E01: Pilot (Pilot)" -> German title, English title
HEADING = re.compile(r"^S\d+E\d+:\s*(?P<de>.*?)(?:\s*\((?P<en>[^()]*)\))?\s*$")


class StoProvider(StreamSiteProvider):
    layout = LAYOUT

    def parse_episode_titles(self, tree: LexborHTMLParser) -> tuple[str, str]:
        title_de, title_en = super().parse_episode_titles(tree)
        if title_de or title_en:
            return title_de, title_en
        match = HEADING.match(node_text(tree.css_first(self.layout.play_heading)))
        if not match:
            return "", ""
        return match.group("de") or "", match.group("en") or ""
