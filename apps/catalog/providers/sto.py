"""s.to / serienstream.to (series): every URL pattern and selector of the site.

s.to was redesigned in early 2026 (a Bootstrap layout; research notes and sources in
``notes/catalog-research.md`` section 7). :data:`CURRENT` lists that layout's selectors,
:data:`LAYOUT` the older one (the aniworld.to engine at ``/serie/stream/{slug}``, with
language key 2 meaning English dub). Each page is read with the current selectors
first and with the older ones when the current ones find nothing, so a site that
serves either (or rolls back) keeps working.

Current layout, as the reference client and independent clients read it:

* series ``/serie/{slug}``: ``<h1 class="h2 mb-1 fw-bold">``, a ``p`` line with
  ``<a href="/jahr/YYYY">``, ``FSK N`` and an IMDb link, ``span.description-text``,
  ``li.series-group`` (Genre:, Land:, …) with ``a.link-light``, a lazy cover
  ``img[data-src*="/media/images/channel/"]`` and ``nav#season-nav`` (``staffel-N``;
  "Filme" as ``staffel-0`` is unconfirmed, so films stay off);
* season: ``tr.episode-row`` whose target is an ``onclick="window.location='…'"``
  (or a link), ``th.episode-number-cell``, ``strong.episode-title-ger``,
  ``span.episode-title-eng``, and flags ``svg.svg-flag-<x>`` / ``<use href="#icon-flag-<x>">``
  where ``english-german`` is English audio with German subtitles;
* episode: ``<h2 class="h4 mb-1">S01E01: German (English)</h2>`` and buttons
  ``div#episode-links button.link-box`` with ``data-play-url="/r?t=<token>"``,
  ``data-provider-name`` (sometimes the placeholder ``Provider``) and
  ``data-language-label`` (``Deutsch``, ``Englisch``, ``Ger-Sub``) in any attribute order;
* search: JSON ``GET /api/search/suggest?term=`` (``{"shows": [{"name", "url"}]}``),
  else the HTML ``GET /suche?term=`` (cards in ``div[data-group="shows"]``, pages by
  ``a[rel=next]``), else the older ``POST /ajax/search``;
* ``/r?t=<token>`` redirects to the hoster; when it stays on the site (a page
  "Stream wird vorbereitet..." with a captcha modal) the site is blocking us and
  only the owner in a browser gets past it (see ``services.follow_catalog_redirect``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from apps.catalog import resolvers
from apps.catalog.http import Page, get_client
from apps.catalog.providers.base import (
    SLUG,
    Layout,
    StreamSiteProvider,
    language_from,
    node_text,
    parse_html,
    parse_int,
    select_once,
    tidy,
)
from apps.catalog.types import (
    EpisodeInfo,
    HosterLink,
    Language,
    SearchResult,
    SeriesDetails,
    Site,
)

# The older layout (the aniworld.to engine).
LAYOUT = Layout(
    site=Site.STO,
    label="s.to",
    known_domains=("s.to", "serienstream.to", "serienstream.cx"),
    series_path="/serie/{slug}",
    series_link=re.compile(rf"^(?:https?://[^/]+)?/serie/(?:stream/)?({SLUG})/?$"),
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
    redirect_stays_is_block=True,
)


@dataclass(frozen=True)
class CurrentLayout:
    """The 2026 layout's URLs and selectors."""

    suggest_path: str = "/api/search/suggest"  # ?term=
    suggest_min_length: int = 3  # shorter terms get empty suggestions: ask the search page
    search_page_path: str = "/suche"  # ?term=
    search_max_pages: int = 5
    search_shows: str = 'div[data-group="shows"]'
    search_cards: str = 'div[data-group="shows"] .card'
    search_card_image: str = "img[data-src], img[src]"
    search_card_link: str = 'a[href*="/serie/"]'
    search_card_title: str = "h6.show-title"
    search_next: str = "a[rel=next]"
    # series page
    title: str = "h1.h2.fw-bold, div.row h1"
    year_link: str = 'a[href*="/jahr/"]'
    meta_line: str = "h1 + p"
    fsk: re.Pattern[str] = re.compile(r"FSK\s*(\d{1,2})")
    imdb_link: str = 'a[href*="imdb.com/title/"]'
    imdb: re.Pattern[str] = re.compile(r"/title/(tt\d{7,8})")
    description: str = "div.series-description span.description-text, span.description-text"
    groups: str = "li.series-group"
    group_label: str = "strong"
    group_items: str = "a.link-light"
    genre_label: str = "genre"
    cover: str = 'img[data-src*="/media/images/channel/"], img[src*="/media/images/channel/"]'
    cover_fallback: str = 'meta[property="og:image"]'
    season_nav: str = "nav#season-nav"
    # season page
    episode_rows: str = "tr.episode-row"
    episode_number: str = "th.episode-number-cell, .episode-number-cell"
    episode_title_de: str = "strong.episode-title-ger, .episode-title-ger"
    episode_title_en: str = "span.episode-title-eng, .episode-title-eng"
    episode_link: str = "a[href]"
    onclick_target: re.Pattern[str] = re.compile(r"""location(?:\.href)?\s*=\s*['"]([^'"]+)['"]""")
    flags: str = "td.episode-language-cell [class*=svg-flag-], td.episode-language-cell use, [class*=svg-flag-]"
    button_flags: str = "[class*=svg-flag-], use"
    # episode page
    heading: str = "article h2.h4, h2.h4.mb-1, h2.h4"
    heading_titles: re.Pattern[str] = re.compile(r"^S\d+E\d+:\s*(?P<de>.*?)(?:\s*\((?P<en>[^()]*)\))?\s*$")
    hosters: str = "div#episode-links [data-play-url], [data-play-url]"
    provider_placeholder: str = "provider"  # data-provider-name="Provider" names no hoster
    provider_image: str = "img[alt], img[src]"


CURRENT = CurrentLayout()

# Flag names (class ``svg-flag-<x>`` or ``<use href="#icon-flag-<x>">``): exact tokens, as
# ``english`` is a prefix of ``english-german``.
LANGUAGE_BY_FLAG_NAME = {
    "german": Language.GERMAN_DUB,
    "english": Language.ENGLISH_DUB,
    "english-german": Language.GERMAN_SUB,
    "english-english": Language.ENGLISH_SUB,  # seen in one client only
}
_FLAG_TOKEN = re.compile(r"(?:^|\s|#)(?:svg-flag-|icon-flag-)([a-z-]+)")


def flag_language(node: LexborNode) -> Language | None:
    """The language of one ``svg``/``i``/``use`` flag element of the current layout."""
    for value in (node.attributes.get("class"), node.attributes.get("href"), node.attributes.get("xlink:href")):
        for name in _FLAG_TOKEN.findall(value or ""):
            if name in LANGUAGE_BY_FLAG_NAME:
                return LANGUAGE_BY_FLAG_NAME[name]
    return None


class StoProvider(StreamSiteProvider):
    layout = LAYOUT
    current = CURRENT

    # -- search ----------------------------------------------------------------
    def search(self, query: str) -> list[SearchResult]:
        """JSON suggestions, else the HTML search pages, else the older engine's endpoints."""
        found = self._suggest(query)
        if found is None or (not found and len(query.strip()) < self.current.suggest_min_length):
            found = self._search_pages(query)
        if found is None:
            return super().search(query)
        return found

    def _fetch_search(self, url: str, *, json_wanted: bool) -> Page:
        headers = {"Referer": self.base_url() + "/"}
        if json_wanted:
            headers |= {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}
        return get_client().fetch(url, bucket=self.site.value, headers=headers, label=self.layout.label)

    def _suggest(self, query: str) -> list[SearchResult] | None:
        page = self._fetch_search(f"{self.base_url()}{self.current.suggest_path}?term={quote(query)}", json_wanted=True)
        if page.status != 200:
            return None
        try:
            data = page.json()
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("shows"), list):
            return None
        entries = [
            {"title": entry.get("name") or entry.get("title"), "link": entry.get("url") or entry.get("link")}
            for entry in data["shows"]
            if isinstance(entry, dict)
        ]
        return self.parse_search_results(entries)

    def _search_pages(self, query: str) -> list[SearchResult] | None:
        url: str | None = f"{self.base_url()}{self.current.search_page_path}?term={quote(query)}"
        entries: list[dict[str, Any]] = []
        seen_pages: set[str] = set()
        for _page in range(self.current.search_max_pages):
            if url is None or url in seen_pages:
                break
            seen_pages.add(url)
            page = self._fetch_search(url, json_wanted=False)
            if page.status != 200:
                return self.parse_search_results(entries) if entries else None
            tree = parse_html(page)
            cards = select_once(tree, self.current.search_cards)
            if not cards and not entries and tree.css_first(self.current.search_shows) is None:
                return None  # not the search page we know
            for card in cards:
                link = card.css_first(self.current.search_card_link)
                title = card.css_first(self.current.search_card_title)
                image = card.css_first(self.current.search_card_image)
                cover = (image.attributes.get("data-src") or image.attributes.get("src") or "") if image else ""
                if link is not None:
                    entries.append(
                        {
                            "title": title.html if title is not None else "",
                            "link": link.attributes["href"],
                            "cover": "" if cover.startswith("data:") else cover,
                        }
                    )
            following = tree.css_first(self.current.search_next)
            url = self.absolute(following.attributes.get("href") or "", page.url) if following else None
        return self.parse_search_results(entries)

    def parse_search_results(self, entries: list[Any]) -> list[SearchResult]:
        """Entries whose link is absolute on an s.to host are made site-relative first (titles are cleaned there)."""
        relative = []
        for entry in entries:
            if isinstance(entry, dict) and str(entry.get("link") or "").startswith(("http://", "https://")):
                entry = {**entry, "link": urlsplit(str(entry["link"])).path}
            relative.append(entry)
        return super().parse_search_results(relative)

    # -- series ----------------------------------------------------------------
    def parse_series(self, page: Page, slug: str) -> SeriesDetails:
        tree = parse_html(page)
        heading = tree.css_first(self.current.title)
        if tree.css_first(self.layout.title) is not None:
            return super().parse_series(page, slug)
        if heading is None:
            raise self.changed(f"the series title ({self.current.title} or {self.layout.title})", page.url)
        title = node_text(heading)
        if not title:
            raise self.changed(f"the series title ({self.current.title})", page.url)
        cur = self.current
        meta_line = node_text(tree.css_first(cur.meta_line))
        years = [parse_int(node_text(a)) for a in tree.css(cur.year_link)]
        year_start = years[0] if years else None
        year_end = self._end_year(tree)
        imdb_node = tree.css_first(cur.imdb_link)
        imdb = cur.imdb.search(imdb_node.attributes.get("href") or "") if imdb_node is not None else None
        fsk = cur.fsk.search(meta_line)
        description_node = tree.css_first(cur.description)
        genres: tuple[str, ...] = ()
        for group in tree.css(cur.groups):
            label = node_text(group.css_first(cur.group_label)).rstrip(":").strip().lower()
            if label == cur.genre_label:
                genres = tuple(dict.fromkeys(t for t in (node_text(a) for a in group.css(cur.group_items)) if t))
        seasons = self._current_seasons(tree, page.url)
        return SeriesDetails(
            site=self.site,
            slug=slug,
            title=title,
            url=self.series_url(slug),
            year_start=year_start,
            year_end=year_end,
            description=node_text(description_node),
            genres=genres,
            cover_url=self._cover(tree, page.url),
            imdb_id=imdb.group(1) if imdb else None,
            fsk=int(fsk.group(1)) if fsk else None,
            seasons=seasons,
            has_films=False,
        )

    def _end_year(self, tree: LexborHTMLParser) -> int | None:
        """The ``<span>`` after the start-year link: a year, or "NA" while the series runs."""
        link = tree.css_first(self.current.year_link)
        node = link.next if link is not None else None
        while node is not None and node.tag in ("-text",):
            node = node.next
        if node is None or node.tag != "span":
            return None
        match = re.search(r"\b(19|20)\d{2}\b", node_text(node))
        return int(match.group()) if match else None

    def _cover(self, tree: LexborHTMLParser, url: str) -> str | None:
        for image in tree.css(self.current.cover):
            if (image.attributes.get("alt") or "").strip().lower() == "backdrop":
                continue
            src = image.attributes.get("data-src") or image.attributes.get("src") or ""
            if src and not src.startswith("data:"):
                return self.absolute(src, url)
        meta = tree.css_first(self.current.cover_fallback)
        content = meta.attributes.get("content") if meta is not None else None
        return self.absolute(content, url) if content else None

    def _current_seasons(self, tree: LexborHTMLParser, url: str) -> tuple[int, ...]:
        nav = tree.css_first(self.current.season_nav)
        if nav is None:
            raise self.changed(f"the season list ({self.current.season_nav} or {self.layout.season_nav})", url)
        numbers = {
            int(match.group(1))
            for anchor in nav.css("a")
            if (match := self.layout.season_link.search(urlsplit(anchor.attributes.get("href") or "").path))
        }
        numbers.discard(0)
        if not numbers:
            raise self.changed(f"any season link (staffel-N) in {self.current.season_nav}", url)
        return tuple(sorted(numbers))

    # -- episodes of a season ------------------------------------------------------
    def parse_episodes(self, page: Page, slug: str, season: int) -> list[EpisodeInfo]:
        tree = parse_html(page)
        rows = tree.css(self.current.episode_rows)
        if not rows:
            if tree.css_first(self.layout.episode_table) is None:
                raise self.changed(
                    f"the episode rows ({self.current.episode_rows}) or table ({self.layout.episode_table})", page.url
                )
            return super().parse_episodes(page, slug, season)
        episodes: dict[int, EpisodeInfo] = {}
        for row in rows:
            href = self._row_target(row, season)
            found = re.search(r"/episode-(\d+)/?$", urlsplit(href).path)
            number = int(found.group(1)) if found else parse_int(node_text(row.css_first(self.current.episode_number)))
            if number is None:
                raise self.changed(
                    f"an episode number ({self.current.episode_number} or an episode link) in {self.current.episode_rows}",
                    page.url,
                )
            episodes[number] = EpisodeInfo(
                site=self.site,
                slug=slug,
                season=season,
                number=number,
                url=self.absolute(href, page.url) if href else self.episode_url(slug, season, number),
                title_de=self._cell_title(row, self.current.episode_title_de),
                title_en=self._cell_title(row, self.current.episode_title_en),
                languages=self._languages(flag_language(flag) for flag in select_once(row, self.current.flags)),
            )
        return [episodes[n] for n in sorted(episodes)]

    def _row_target(self, row: LexborNode, season: int) -> str:
        """The row's episode URL: its ``onclick`` location, else a link to ``/staffel-N/episode-M``."""
        onclick = self.current.onclick_target.search(row.attributes.get("onclick") or "")
        if onclick:
            return onclick.group(1)
        for anchor in row.css(self.current.episode_link):
            href = anchor.attributes.get("href") or ""
            if re.search(rf"/staffel-{season}/episode-\d+/?$", urlsplit(href).path):
                return href
        return ""

    @staticmethod
    def _cell_title(row: LexborNode, selector: str) -> str:
        node = row.css_first(selector)
        if node is None:
            return ""
        return node_text(node) or tidy(node.attributes.get("title"))

    # -- one episode -------------------------------------------------------------------
    def parse_episode_titles(self, tree: LexborHTMLParser) -> tuple[str, str]:
        title_de, title_en = super().parse_episode_titles(tree)
        if title_de or title_en:
            return title_de, title_en
        match = self.current.heading_titles.match(node_text(tree.css_first(self.current.heading)))
        if not match:
            return "", ""
        return match.group("de") or "", match.group("en") or ""

    def _play_url_hosters(self, tree: LexborHTMLParser, url: str) -> list[HosterLink]:
        links: list[HosterLink] = []
        for item in select_once(tree, self.current.hosters):
            attributes = item.attributes
            language = language_from(
                title=attributes.get("data-language-label") or "",
                key=attributes.get("data-language-id") or "",
                keys=self.layout.language_keys,
            )
            if language is None:
                language = next(
                    (found for flag in item.css(self.current.button_flags) if (found := flag_language(flag))), None
                )
            links.append(self.play_button_link(attributes, self._provider_name(item), language, url))
        return links

    def _provider_name(self, item: LexborNode) -> str:
        """``data-provider-name``, unless it is the placeholder "Provider": then the button's image or text."""
        name = tidy(item.attributes.get("data-provider-name"))
        if name and name.lower() != self.current.provider_placeholder:
            return name
        candidates = [tidy(item.text(deep=True))]
        image = item.css_first(self.current.provider_image)
        if image is not None:
            stem = (image.attributes.get("src") or "").rsplit("/", 1)[-1].split(".", 1)[0].split("?", 1)[0]
            candidates[:0] = [tidy(image.attributes.get("alt")), stem]
        for candidate in candidates:
            if candidate and candidate.lower() != self.current.provider_placeholder:
                resolver = resolvers.resolver_by_name(candidate)
                return resolver.name if resolver is not None else candidate
        return ""
