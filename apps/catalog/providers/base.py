"""The provider interface and the parsing shared by aniworld.to and s.to.

Both sites run the same engine, so one parser (:class:`StreamSiteProvider`)
reads both; each provider module describes its site in one :class:`Layout`
(every URL pattern and CSS selector in one place) and overrides what differs.
Missing structure raises :class:`LayoutChanged` naming what was not found and
where; nothing here lets an AttributeError escape.
"""

from __future__ import annotations

import html
import re
import unicodedata
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from apps.catalog import conf
from apps.catalog.http import AJAX_HEADERS, Page, get_client
from apps.catalog.safety import host_matches
from apps.catalog.types import (
    EpisodeInfo,
    EpisodeSources,
    HosterLink,
    Language,
    LayoutChanged,
    NotFoundOnSite,
    SearchResult,
    SeriesDetails,
    Site,
    SiteUnavailable,
)

_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")
SLUG = r"[a-zA-Z0-9][a-zA-Z0-9-]*"

# Read the language from the flag image or its title first; the numeric key differs per site.
LANGUAGE_BY_FLAG = {
    "german.svg": Language.GERMAN_DUB,
    "english.svg": Language.ENGLISH_DUB,
    "japanese-german.svg": Language.GERMAN_SUB,
    "english-german.svg": Language.GERMAN_SUB,
    "japanese-english.svg": Language.ENGLISH_SUB,
}
LANGUAGE_BY_LABEL = {
    "deutsch": Language.GERMAN_DUB,
    "german": Language.GERMAN_DUB,
    "englisch": Language.ENGLISH_DUB,
    "english": Language.ENGLISH_DUB,
    "mit untertitel deutsch": Language.GERMAN_SUB,
    "mit deutschem untertitel": Language.GERMAN_SUB,
    "deutsch untertitel": Language.GERMAN_SUB,
    "ger-sub": Language.GERMAN_SUB,
    "mit untertitel englisch": Language.ENGLISH_SUB,
    "mit englischem untertitel": Language.ENGLISH_SUB,
    "englisch untertitel": Language.ENGLISH_SUB,
    "eng-sub": Language.ENGLISH_SUB,
}


def tidy(value: Any) -> str:
    """Already-decoded text: control characters dropped, whitespace collapsed."""
    if value is None:
        return ""
    text = "".join(" " if ch.isspace() else ch for ch in str(value) if ch.isspace() or unicodedata.category(ch) != "Cc")
    return _SPACES.sub(" ", text).strip()


def clean_text(fragment: Any) -> str:
    """Text of an HTML fragment (search JSON): tags such as ``<em>`` removed first, then entities decoded."""
    if fragment is None:
        return ""
    return tidy(html.unescape(_TAG.sub("", str(fragment))))


def node_text(node: LexborNode | None) -> str:
    return tidy(node.text(deep=True)) if node is not None else ""


def parse_int(value: Any) -> int | None:
    match = re.search(r"\d+", str(value or ""))
    return int(match.group()) if match else None


def parse_html(page: Page) -> LexborHTMLParser:
    return LexborHTMLParser(page.text)


def select_once(tree: LexborHTMLParser | LexborNode, selector: str) -> list[LexborNode]:
    """Nodes matching ``selector`` in document order, each once.

    The parser returns a node once per alternative of a selector list (``a, b``) it matches.
    """
    seen: set[int] = set()
    nodes = []
    for node in tree.css(selector):
        if node.mem_id not in seen:
            seen.add(node.mem_id)
            nodes.append(node)
    return nodes


def language_from(
    *, src: str = "", title: str = "", key: str = "", keys: dict[str, Language] | None = None
) -> Language | None:
    """Language of a flag/label: by image name, then by title text, then by the site's numeric key."""
    name = src.rsplit("/", 1)[-1].split("?", 1)[0].lower()
    if name in LANGUAGE_BY_FLAG:
        return LANGUAGE_BY_FLAG[name]
    label = tidy(title).lower()
    if label in LANGUAGE_BY_LABEL:
        return LANGUAGE_BY_LABEL[label]
    if "untertitel" in label or "sub" in label:
        if "englisch" in label or "english" in label:
            return Language.ENGLISH_SUB
        if "deutsch" in label or "german" in label:
            return Language.GERMAN_SUB
    return (keys or {}).get(str(key).strip())


@dataclass(frozen=True)
class Layout:
    """Everything one site's parser needs to know about URLs and markup."""

    site: Site
    label: str  # for messages, e.g. "aniworld.to"
    known_domains: tuple[str, ...]  # hosts the site uses (plus whatever base URL is configured)
    series_path: str  # "/anime/stream/{slug}"
    series_link: re.Pattern[str]  # site-relative series link in search results -> slug
    reference: re.Pattern[str]  # series slug inside any URL path
    language_keys: dict[str, Language]
    has_films: bool = True
    season_path: str = "{series}/staffel-{season}"
    films_path: str = "{series}/filme"
    episode_path: str = "{series}/staffel-{season}/episode-{number}"
    film_path: str = "{series}/filme/film-{number}"
    search_path: str = "/ajax/search"
    legacy_search_path: str = "/ajax/seriesSearch"
    season_link: re.Pattern[str] = re.compile(r"/staffel-(\d+)/?$")
    films_link: re.Pattern[str] = re.compile(r"/filme/?$")
    # series page
    title: str = "div.series-title > h1 > span"
    title_heading: str = "div.series-title > h1"
    alternative_titles_attr: str = "data-alternativetitles"
    start_year: str = "[itemprop=startDate]"
    end_year: str = "[itemprop=endDate]"
    description: str = "p.seri_des"
    description_attr: str = "data-full-description"
    genres: str = "div.genres ul a[itemprop=genre], div.genres a[itemprop=genre]"
    cover: str = "div.seriesCoverBox img"
    imdb: str = "[data-imdb]"
    fsk: str = "[data-fsk]"
    rating: str = "[itemprop=ratingValue]"
    season_nav: str = "div.hosterSiteDirectNav#stream > ul"
    # season page
    episode_table: str = "table.seasonEpisodesList"
    episode_rows: str = 'tr[itemtype="http://schema.org/Episode"]'
    episode_number: str = "meta[itemprop=episodeNumber]"
    episode_link: str = "a[itemprop=url]"
    episode_title_cell: str = "td.seasonEpisodeTitle"
    episode_title_de_in_row: str = "strong"
    episode_title_en_in_row: str = "span"
    row_flags: str = "img"
    # episode page
    episode_title_de: str = "span.episodeGermanTitle"
    episode_title_en: str = "small.episodeEnglishTitle"
    language_box: str = "div.changeLanguageBox"
    language_flags: str = "div.changeLanguageBox img[data-lang-key]"
    hosters: str = "li.hoster[data-link-target], li[data-lang-key][data-link-id]"
    hoster_name: str = "h4"
    hoster_icon: str = "i.icon"
    hoster_anchor: str = "a.watchEpisode"
    play_hosters: str = "[data-play-url]"  # newer s.to layout
    play_heading: str = "h2.h4"
    # A hoster link that does not leave the site (s.to's /r?t= captcha modal) is the site blocking us.
    redirect_stays_is_block: bool = False
    extra: dict[str, str] = field(default_factory=dict)


class Provider(ABC):
    """What services.py needs from a catalog site."""

    site: Site
    label: str  # for messages, e.g. "aniworld.to"

    @abstractmethod
    def base_url(self) -> str: ...

    @abstractmethod
    def search(self, query: str) -> list[SearchResult]: ...

    @abstractmethod
    def series(self, slug: str) -> SeriesDetails: ...

    @abstractmethod
    def episodes(self, slug: str, season: int) -> list[EpisodeInfo]: ...

    @abstractmethod
    def episode_sources(self, slug: str, season: int, number: int) -> EpisodeSources: ...

    @abstractmethod
    def slug_from_url(self, url: str) -> str | None: ...

    @abstractmethod
    def owns_url(self, url: str) -> bool: ...


class StreamSiteProvider(Provider):
    """The parser for the aniworld.to / s.to engine, driven by a :class:`Layout`."""

    layout: Layout

    @property
    def site(self) -> Site:  # type: ignore[override]
        return self.layout.site

    @property
    def label(self) -> str:  # type: ignore[override]
        return self.layout.label

    # -- URLs ----------------------------------------------------------------
    def base_url(self) -> str:
        return conf.site_base_url(self.layout.site)

    def absolute(self, href: str, page_url: str | None = None) -> str:
        """Site-relative paths (``/redirect/1``) are relative to the configured base URL, which may have a prefix."""
        href = (href or "").strip()
        if href.startswith(("http://", "https://")):
            return href
        if href.startswith("//"):
            return f"{urlsplit(self.base_url()).scheme}:{href}"
        if href.startswith("/"):
            return self.base_url() + href
        return urljoin(page_url or self.base_url() + "/", href)

    def series_url(self, slug: str) -> str:
        return self.base_url() + self.layout.series_path.format(slug=slug)

    def season_url(self, slug: str, season: int) -> str:
        series = self.series_url(slug)
        if season == 0:
            return self.layout.films_path.format(series=series)
        return self.layout.season_path.format(series=series, season=season)

    def episode_url(self, slug: str, season: int, number: int) -> str:
        series = self.series_url(slug)
        if season == 0:
            return self.layout.film_path.format(series=series, number=number)
        return self.layout.episode_path.format(series=series, season=season, number=number)

    def owns_url(self, url: str) -> bool:
        """On the configured base URL (including its path prefix), or on one of the site's known domains."""
        if url.startswith(self.base_url() + "/"):
            return True
        return host_matches((urlsplit(url).hostname or "").lower(), self.layout.known_domains)

    def slug_from_url(self, url: str) -> str | None:
        match = self.layout.reference.search(urlsplit(url).path)
        return match.group(1) if match else None

    def changed(self, what: str, url: str) -> LayoutChanged:
        return LayoutChanged(f"site layout changed: {what} not found on {url} ({self.layout.label})")

    # -- fetching --------------------------------------------------------------
    def fetch_page(self, url: str, what: str) -> Page:
        page = get_client().fetch(url, bucket=self.layout.site.value, label=self.layout.label)
        if page.status == 404:
            raise NotFoundOnSite(f"{self.layout.label} has no {what} at {url} (HTTP 404)")
        if page.status >= 400:
            raise SiteUnavailable(f"{self.layout.label} answered HTTP {page.status} for the {what} at {url}")
        return page

    # -- search ----------------------------------------------------------------
    def search(self, query: str) -> list[SearchResult]:
        base = self.base_url()
        headers = {
            **AJAX_HEADERS,
            "Referer": base + "/",
            "Origin": f"{urlsplit(base).scheme}://{urlsplit(base).netloc}",
        }
        client = get_client()
        url = base + self.layout.search_path
        page = client.fetch(
            url,
            bucket=self.site.value,
            method="POST",
            data={"keyword": query},
            headers=headers,
            label=self.layout.label,
        )
        entries = self._json_list(page)
        if entries is None:  # the older endpoint still answers on some mirrors
            legacy = f"{base}{self.layout.legacy_search_path}?{urlencode({'keyword': query})}"
            entries = self._json_list(
                client.fetch(legacy, bucket=self.site.value, headers=headers, label=self.layout.label)
            )
            if entries is None:
                raise self.changed(
                    f"a JSON list from {self.layout.search_path} or {self.layout.legacy_search_path}", url
                )
        return self.parse_search_results(entries)

    @staticmethod
    def _json_list(page: Page) -> list[Any] | None:
        if page.status != 200:
            return None
        try:
            data = page.json()
        except (ValueError, UnicodeDecodeError):
            return None
        return data if isinstance(data, list) else None

    def parse_search_results(self, entries: list[Any]) -> list[SearchResult]:
        results: list[SearchResult] = []
        seen: set[str] = set()
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            link = str(entry.get("link") or "").strip()
            match = self.layout.series_link.match(link) or re.fullmatch(f"({SLUG})", link)
            if not match:
                continue  # genre pages, help pages, episodes: not a series
            slug = match.group(1)
            if slug in seen:
                continue
            seen.add(slug)
            title = clean_text(entry.get("title") or entry.get("name"))
            if not title:
                continue
            cover = entry.get("cover")
            results.append(
                SearchResult(
                    site=self.site,
                    slug=slug,
                    title=title,
                    url=self.series_url(slug),
                    year=parse_int(entry.get("productionYear") or entry.get("year")),
                    description=clean_text(entry.get("description")),
                    cover_url=self.absolute(str(cover)) if cover else None,
                )
            )
        return results

    # -- series ----------------------------------------------------------------
    def series(self, slug: str) -> SeriesDetails:
        url = self.series_url(slug)
        return self.parse_series(self.fetch_page(url, f"series '{slug}'"), slug)

    def parse_series(self, page: Page, slug: str) -> SeriesDetails:
        layout, tree, url = self.layout, parse_html(page), page.url
        title = node_text(tree.css_first(layout.title))
        if not title:
            raise self.changed(f"the series title ({layout.title})", url)
        heading = tree.css_first(layout.title_heading)
        alternative = ()
        if heading is not None:
            raw = heading.attributes.get(layout.alternative_titles_attr) or ""
            alternative = tuple(t for t in (tidy(part) for part in raw.split(",")) if t)
        description_node = tree.css_first(layout.description)
        description = ""
        if description_node is not None:
            description = tidy(description_node.attributes.get(layout.description_attr)) or node_text(description_node)
        genres = tuple(dict.fromkeys(t for t in (node_text(a) for a in select_once(tree, layout.genres)) if t))
        cover_node = tree.css_first(layout.cover)
        cover = None
        if cover_node is not None:
            src = cover_node.attributes.get("data-src") or cover_node.attributes.get("src")
            cover = self.absolute(src, url) if src else None
        imdb_node = tree.css_first(layout.imdb)
        imdb = (imdb_node.attributes.get("data-imdb") or "").strip() if imdb_node is not None else ""
        fsk_node = tree.css_first(layout.fsk)
        rating_node = tree.css_first(layout.rating)
        rating = None
        if rating_node is not None:
            raw_rating = rating_node.attributes.get("content") or node_text(rating_node)
            try:
                rating = float(raw_rating.replace(",", "."))
            except ValueError:
                rating = None
        seasons, has_films = self.parse_season_numbers(tree, url)
        return SeriesDetails(
            site=self.site,
            slug=slug,
            title=title,
            url=self.series_url(slug),
            alternative_titles=alternative,
            year_start=self._year(tree, layout.start_year),
            year_end=self._year(tree, layout.end_year),
            description=description,
            genres=genres,
            cover_url=cover,
            imdb_id=imdb if re.fullmatch(r"tt\d+", imdb) else None,
            fsk=parse_int(fsk_node.attributes.get("data-fsk")) if fsk_node is not None else None,
            rating=rating,
            seasons=seasons,
            has_films=has_films,
        )

    @staticmethod
    def _year(tree: LexborHTMLParser, selector: str) -> int | None:
        node = tree.css_first(selector)
        if node is None:
            return None
        match = re.search(r"\b(19|20)\d{2}\b", node.attributes.get("content") or node_text(node))
        return int(match.group()) if match else None

    def parse_season_numbers(self, tree: LexborHTMLParser, url: str) -> tuple[tuple[int, ...], bool]:
        navs = tree.css(self.layout.season_nav)
        if not navs:
            raise self.changed(f"the season list ({self.layout.season_nav})", url)
        numbers: set[int] = set()
        has_films = False
        for anchor in navs[0].css("a"):
            href = (anchor.attributes.get("href") or "").strip()
            path = urlsplit(href).path
            season = self.layout.season_link.search(path)
            if season:
                numbers.add(int(season.group(1)))
            elif self.layout.has_films and self.layout.films_link.search(path):
                has_films = True
        if not numbers and not has_films:
            raise self.changed("any season link (staffel-N / filme)", url)
        if has_films:
            numbers.add(0)
        return tuple(sorted(numbers)), has_films

    # -- episodes of a season ------------------------------------------------------
    def episodes(self, slug: str, season: int) -> list[EpisodeInfo]:
        if season == 0 and not self.layout.has_films:
            raise NotFoundOnSite(f"{self.layout.label} has no films section")
        url = self.season_url(slug, season)
        what = "films" if season == 0 else f"season {season}"
        return self.parse_episodes(self.fetch_page(url, f"{what} of '{slug}'"), slug, season)

    def parse_episodes(self, page: Page, slug: str, season: int) -> list[EpisodeInfo]:
        layout, tree, url = self.layout, parse_html(page), page.url
        table = tree.css_first(layout.episode_table)
        if table is None:
            raise self.changed(f"the episode table ({layout.episode_table})", url)
        episodes: dict[int, EpisodeInfo] = {}
        for row in table.css(layout.episode_rows):
            link = row.css_first(layout.episode_link)
            href = (link.attributes.get("href") or "") if link is not None else ""
            number_node = row.css_first(layout.episode_number)
            number = parse_int(number_node.attributes.get("content")) if number_node is not None else None
            if number is None:
                found = re.search(r"/(?:episode|film)-(\d+)/?$", href)
                number = int(found.group(1)) if found else None
            if number is None:
                raise self.changed(
                    f"an episode number ({layout.episode_number}) in a row of {layout.episode_rows}", url
                )
            cell = row.css_first(layout.episode_title_cell)
            title_de = node_text(cell.css_first(layout.episode_title_de_in_row)) if cell is not None else ""
            title_en = node_text(cell.css_first(layout.episode_title_en_in_row)) if cell is not None else ""
            languages = self._languages(
                language_from(src=img.attributes.get("src") or "", title=img.attributes.get("title") or "")
                for img in row.css(layout.row_flags)
            )
            episodes[number] = EpisodeInfo(
                site=self.site,
                slug=slug,
                season=season,
                number=number,
                url=self.absolute(href, url) if href else self.episode_url(slug, season, number),
                title_de=title_de,
                title_en=title_en,
                languages=languages,
            )
        return [episodes[n] for n in sorted(episodes)]

    @staticmethod
    def _languages(found: Any) -> tuple[Language, ...]:
        return tuple(dict.fromkeys(language for language in found if language is not None))

    # -- one episode: languages and hosters -------------------------------------------
    def episode_sources(self, slug: str, season: int, number: int) -> EpisodeSources:
        url = self.episode_url(slug, season, number)
        what = f"film {number}" if season == 0 else f"episode S{season:02d}E{number:02d}"
        return self.parse_episode_sources(self.fetch_page(url, f"{what} of '{slug}'"), slug, season, number)

    def parse_episode_titles(self, tree: LexborHTMLParser) -> tuple[str, str]:
        return node_text(tree.css_first(self.layout.episode_title_de)), node_text(
            tree.css_first(self.layout.episode_title_en)
        )

    def parse_episode_sources(self, page: Page, slug: str, season: int, number: int) -> EpisodeSources:
        layout, tree, url = self.layout, parse_html(page), page.url
        title_de, title_en = self.parse_episode_titles(tree)
        key_languages: dict[str, Language] = {}
        for flag in tree.css(layout.language_flags):
            key = (flag.attributes.get("data-lang-key") or "").strip()
            language = language_from(
                src=flag.attributes.get("src") or "",
                title=flag.attributes.get("title") or flag.attributes.get("alt") or "",
                key=key,
                keys=layout.language_keys,
            )
            if key and language is not None:
                key_languages[key] = language
        hosters = self._classic_hosters(tree, key_languages, url)
        if not hosters:
            hosters = self._play_url_hosters(tree, url)
        if not hosters and tree.css_first(layout.language_box) is None:
            raise self.changed(f"the hoster list ({layout.hosters} or {layout.play_hosters})", url)
        languages = self._languages([*key_languages.values(), *(h.language for h in hosters)])
        episode = EpisodeInfo(
            site=self.site,
            slug=slug,
            season=season,
            number=number,
            url=self.episode_url(slug, season, number),
            title_de=title_de,
            title_en=title_en,
            languages=languages,
        )
        return EpisodeSources(episode=episode, languages=languages, hosters=tuple(hosters))

    def _classic_hosters(
        self, tree: LexborHTMLParser, key_languages: dict[str, Language], url: str
    ) -> list[HosterLink]:
        layout = self.layout
        links: list[HosterLink] = []
        for item in select_once(tree, layout.hosters):
            key = (item.attributes.get("data-lang-key") or "").strip()
            language = key_languages.get(key) or layout.language_keys.get(key)
            anchor = item.css_first(layout.hoster_anchor)
            target = item.attributes.get("data-link-target") or (
                anchor.attributes.get("href") if anchor is not None else None
            )
            name = node_text(item.css_first(layout.hoster_name))
            if not name:
                icon = item.css_first(layout.hoster_icon)
                name = tidy((icon.attributes.get("title") or "") if icon is not None else "")
                name = re.sub(r"^Hoster\s+", "", name)
            if language is None or not target or not name:
                raise self.changed(
                    "a complete hoster entry (data-lang-key with a known language, data-link-target, <h4> name)", url
                )
            links.append(
                HosterLink(
                    hoster=name,
                    language=language,
                    redirect_url=self.absolute(target, url),
                    link_id=(item.attributes.get("data-link-id") or "").strip(),
                )
            )
        return links

    def _play_url_hosters(self, tree: LexborHTMLParser, url: str) -> list[HosterLink]:
        links: list[HosterLink] = []
        for item in select_once(tree, self.layout.play_hosters):
            attributes = item.attributes
            name = tidy(attributes.get("data-provider-name"))
            label = attributes.get("data-language-label") or ""
            language = language_from(
                title=label, key=attributes.get("data-language-id") or "", keys=self.layout.language_keys
            )
            links.append(self.play_button_link(attributes, name, language, url))
        return links

    def play_button_link(
        self, attributes: dict[str, str | None], name: str, language: Language | None, url: str
    ) -> HosterLink:
        """A hoster button carrying ``data-play-url`` (s.to's ``/r?t=<token>``): its link, or a layout change."""
        target = (attributes.get("data-play-url") or "").strip()
        if not name or language is None or not target:
            raise self.changed("a complete hoster entry (data-play-url, data-provider-name, data-language-label)", url)
        token = re.search(r"[?&]t=([^&]+)", target)
        return HosterLink(
            hoster=name,
            language=language,
            redirect_url=self.absolute(target, url),
            link_id=(attributes.get("data-link-id") or (token.group(1) if token else "")).strip(),
        )
