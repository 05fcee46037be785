"""What the rest of Aniworld calls to use the catalog sites.

Every function raises a subclass of :class:`apps.catalog.types.CatalogError`
with a message that names the site, the step and what to do:
``SiteBlocking`` (wait until ``retry_at``), ``SiteUnavailable`` (try later),
``NotFoundOnSite`` / ``LayoutChanged`` (permanent), ``HosterError`` (try the
next hoster or language), ``HosterRefused`` (that link is never fetched).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from urllib.parse import urlsplit

from apps.catalog import blocks, conf, resolvers
from apps.catalog.http import get_client, reset_client
from apps.catalog.providers import PROVIDERS, provider_for
from apps.catalog.providers.base import SLUG
from apps.catalog.safety import is_allow_listed
from apps.catalog.types import (
    CatalogError,
    EpisodeInfo,
    EpisodeSources,
    HosterError,
    HosterLink,
    HosterRefused,
    LayoutChanged,
    MediaSource,
    NotFoundOnSite,
    SearchResult,
    SeriesDetails,
    Site,
    SiteBlocking,
    SiteUnavailable,
)

T = TypeVar("T")
MAX_CATALOG_REDIRECTS = 3
MAX_COVER_BYTES = 5 * 1024 * 1024
REFERENCE = re.compile(rf"(?P<site>aniworld|sto)\s*:\s*(?P<slug>{SLUG})", re.IGNORECASE)


@dataclass
class SearchOutcome:
    """Results of searching several sites; a site that failed is in ``failures`` instead."""

    results: list[SearchResult] = field(default_factory=list)
    failures: dict[Site, CatalogError] = field(default_factory=dict)


def _relevance(query: str, result: SearchResult) -> int:
    wanted, title = query.casefold().strip(), result.title.casefold()
    if title == wanted:
        return 0
    if title.startswith(wanted):
        return 1
    return 2 if wanted in title else 3


def _closing_db_connections(function: Callable[..., T], *args: object) -> T:
    """Run in a worker thread; close the database connections the settings source may have opened there."""
    try:
        return function(*args)
    finally:
        from django.conf import settings

        if settings.configured:
            from django.db import connections

            connections.close_all()


def _from_site(site: Site, call: Callable[..., T], *args: object) -> T:
    """One call that sends requests to ``site``; while the site is known to block us it raises that block instead.

    A block the call runs into is remembered until its retry time (for every process).
    """
    known = blocks.known(site)
    if known is not None:
        raise known
    try:
        return call(*args)
    except SiteBlocking as exc:
        blocks.remember(site, exc)
        raise


def check_now(site: Site) -> None:
    """Forget the site's known block: the next call sends its request (the owner asked to check now)."""
    blocks.forget(Site(site))


SITE_REACHABLE = "reachable"
SITE_BLOCKED = "blocked"
SITE_UNREACHABLE = "unreachable"
SITE_NOT_CONFIGURED = "not_configured"


@dataclass(frozen=True)
class SiteState:
    """What Aniworld knows about one catalog site; ``checked`` says a request was just sent to learn it."""

    site: Site
    state: str
    detail: str
    base_url: str | None = None
    retry_at: datetime | None = None
    checked: bool = False


def site_state(site: Site) -> SiteState:
    """The site's state without sending anything: not configured, blocked until its retry time, or reachable."""
    site = Site(site)
    try:
        base_url = conf.site_base_url(site)
    except ValueError as exc:
        return SiteState(site, SITE_NOT_CONFIGURED, f"No valid address is set for {site.label}: {exc}.")
    block = blocks.known(site)
    if block is not None:
        return SiteState(site, SITE_BLOCKED, str(block), base_url, block.retry_at)
    return SiteState(site, SITE_REACHABLE, "No block known.", base_url)


def check_site(site: Site) -> SiteState:
    """Ask the site now (one request to its home page), forgetting a known block first.

    A block it still answers with is remembered again with its new retry time.
    """
    site = Site(site)
    current = site_state(site)
    if current.state == SITE_NOT_CONFIGURED:
        return current
    check_now(site)
    try:
        _from_site(site, _fetch_home, site, current.base_url)
    except SiteBlocking as exc:
        return SiteState(site, SITE_BLOCKED, str(exc), current.base_url, exc.retry_at, checked=True)
    except CatalogError as exc:
        return SiteState(site, SITE_UNREACHABLE, str(exc), current.base_url, checked=True)
    return SiteState(site, SITE_REACHABLE, "Answered just now.", current.base_url, checked=True)


def _fetch_home(site: Site, base_url: str) -> None:
    page = get_client().fetch(base_url + "/", bucket=site.value, strict_blocking=True, label=site.label)
    if page.status >= 500:
        raise SiteUnavailable(f"{site.label} answered HTTP {page.status}")


def search_sites(query: str, sites: Iterable[Site] | None = None) -> SearchOutcome:
    """Search the given sites (all by default) in parallel; one site failing does not hide the others."""
    chosen = [Site(site) for site in (sites or list(Site))]
    outcome = SearchOutcome()
    with ThreadPoolExecutor(max_workers=len(chosen), thread_name_prefix="catalog-search") as pool:
        futures = {
            site: pool.submit(_closing_db_connections, _from_site, site, provider_for(site).search, query)
            for site in chosen
        }
    site_order = {site: index for index, site in enumerate(chosen)}
    found: list[tuple[int, int, int, SearchResult]] = []
    for site, future in futures.items():
        try:
            results = future.result()
        except CatalogError as exc:
            outcome.failures[site] = exc
            continue
        found.extend((_relevance(query, r), site_order[site], i, r) for i, r in enumerate(results))
    outcome.results = [entry[-1] for entry in sorted(found, key=lambda entry: entry[:3])]
    return outcome


def search(query: str, site: Site | None = None) -> list[SearchResult]:
    outcome = search_sites(query, [site] if site else None)
    if not outcome.results and outcome.failures:
        failures = list(outcome.failures.values())
        raise next((f for f in failures if isinstance(f, SiteBlocking)), failures[0])
    return outcome.results


def fetch_series(site: Site, slug: str) -> SeriesDetails:
    return _from_site(Site(site), provider_for(site).series, slug)


def fetch_episodes(site: Site, slug: str, season: int) -> list[EpisodeInfo]:
    return _from_site(Site(site), provider_for(site).episodes, slug, season)


def fetch_episode_sources(site: Site, slug: str, season: int, number: int) -> EpisodeSources:
    return _from_site(Site(site), provider_for(site).episode_sources, slug, season, number)


def _site_of(url: str) -> Site | None:
    return next((site for site, provider in PROVIDERS.items() if provider.owns_url(url)), None)


def follow_catalog_redirect(link: HosterLink) -> str:
    """The hoster embed URL behind a catalog ``/redirect/<id>`` link (one request on the catalog site)."""
    site = _site_of(link.redirect_url)
    if site is None:
        raise HosterRefused(f"refused to fetch {link.redirect_url}: the redirect link is not on a catalog site")
    return _from_site(site, _follow_redirect_hops, site, link)


def _follow_redirect_hops(site: Site, link: HosterLink) -> str:
    provider = PROVIDERS[site]
    label = provider.label
    url = link.redirect_url
    for _hop in range(MAX_CATALOG_REDIRECTS):
        page = get_client().fetch(url, bucket=site.value, follow_redirects=False, strict_blocking=True, label=label)
        if page.status in (404, 410):
            raise HosterError(f"{link.hoster}: catalog redirect: {label} no longer has this link ({url})")
        if not page.is_redirect:
            if getattr(provider, "layout", None) is not None and provider.layout.redirect_stays_is_block:
                raise _stayed_on_site(label, link, url)
            raise LayoutChanged(
                f"site layout changed: {label} answered HTTP {page.status} without a redirect for {url}"
            )
        url = page.location or url
        if _site_of(url) != site:
            return url
    raise HosterError(f"{link.hoster}: catalog redirect: {label} redirected more than {MAX_CATALOG_REDIRECTS} times")


def _stayed_on_site(label: str, link: HosterLink, url: str) -> SiteBlocking:
    """s.to keeps a hoster link on the site behind a captcha modal when it wants a human: a block, not a layout."""
    retry_at = datetime.now(UTC) + timedelta(seconds=conf.block_cooldown_seconds())
    return SiteBlocking(
        f"{label} is blocking us: the {link.hoster} link stayed on the site ({url}, a captcha before the stream) "
        f"instead of leading to the hoster; the owner has to open the episode in a browser and solve it, then "
        f"check now (otherwise retrying after {retry_at:%H:%M} UTC)",
        retry_at,
    )


def resolve_media(link: HosterLink) -> MediaSource:
    """Follow the catalog redirect to the hoster embed page and resolve it to a media URL."""
    if resolvers.resolver_by_name(link.hoster) is None:
        raise HosterError(
            f"{link.hoster}: not supported (supported hosters: {', '.join(resolvers.supported_hosters())})"
        )
    embed_url = follow_catalog_redirect(link)
    return resolvers.resolve_embed(embed_url, link.hoster)


def download_cover(url: str) -> tuple[bytes, str]:
    """Fetch a cover image from the catalog site; returns (bytes, content type)."""
    site = _site_of(url)
    if site is None and not is_allow_listed(url):
        raise HosterRefused(f"refused to fetch the cover {url}: it is not on a configured catalog site")
    bucket = (site or Site.ANIWORLD).value
    if site is not None and (block := blocks.known(site)) is not None:
        raise block
    page = get_client().fetch(url, bucket=bucket, label=f"{bucket} cover")
    if page.status == 404:
        raise NotFoundOnSite(f"the cover {url} does not exist (HTTP 404)")
    if page.status != 200:
        raise SiteUnavailable(f"the cover {url} answered HTTP {page.status}")
    content_type = page.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if not content_type.startswith("image/"):
        raise LayoutChanged(f"site layout changed: the cover {url} is {content_type or 'untyped'}, not an image")
    if len(page.body) > MAX_COVER_BYTES:
        raise SiteUnavailable(f"the cover {url} is larger than {MAX_COVER_BYTES} bytes")
    return page.body, content_type


def parse_series_reference(value: str) -> tuple[Site, str]:
    """Accept a catalog URL or "site:slug" and return (site, slug); raise ValueError when neither."""
    text = (value or "").strip()
    match = REFERENCE.fullmatch(text)
    if match:
        return Site(match.group("site").lower()), match.group("slug")
    if text.lower().startswith(("http://", "https://")):
        for site, provider in PROVIDERS.items():
            slug = provider.slug_from_url(text)
            if slug:
                return site, slug
    raise ValueError(
        f"{value!r} is neither a catalog series URL (…/anime/stream/<slug>, …/serie/<slug>) "
        "nor 'aniworld:<slug>' / 'sto:<slug>'"
    )


@dataclass(frozen=True)
class CatalogTarget:
    """What a catalog URL points at: a series, one of its seasons (0 = films), or one episode."""

    site: Site
    slug: str
    season: int | None = None
    episode: int | None = None


_SEASON_IN_PATH = re.compile(r"/(?:staffel-(?P<season>\d+)|(?P<films>filme))(?:/|$)")
_EPISODE_IN_PATH = re.compile(r"/(?:episode|film)-(?P<number>\d+)/?$")


def parse_catalog_url(url: str) -> CatalogTarget:
    """The site, series, season and episode a series, season or episode URL names; ValueError saying what is wrong."""
    text = (url or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not a URL: give a series, season or episode address (https://…)")
    site = _site_of(text)
    if site is None:
        known = ", ".join(f"{provider.label} ({provider.base_url()})" for provider in PROVIDERS.values())
        raise ValueError(f"{parts.hostname} is not a catalog site Aniworld knows; known: {known}")
    slug = PROVIDERS[site].slug_from_url(text)
    if not slug:
        raise ValueError(f"{url!r} is not a series, season or episode address on {site.label}")
    season_match = _SEASON_IN_PATH.search(parts.path)
    season = None
    if season_match:
        season = 0 if season_match.group("films") else int(season_match.group("season"))
    episode_match = _EPISODE_IN_PATH.search(parts.path)
    episode = int(episode_match.group("number")) if episode_match and season is not None else None
    return CatalogTarget(site=site, slug=slug, season=season, episode=episode)


def reset() -> None:
    """Forget cookies, connections and rate state (tests; after the owner changes catalog settings)."""
    reset_client()
