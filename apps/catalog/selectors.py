"""Read side of the catalog for the API: search across sites and an episode's sources, with a short-lived cache."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from django.core.cache import cache

from apps.catalog import resolvers, services
from apps.catalog.types import (
    CatalogError,
    Language,
    LayoutChanged,
    SearchResult,
    Site,
    SiteBlocking,
    SiteUnavailable,
)

SEARCH_CACHE_SECONDS = 300
CACHE_VERSION = "v1"


def search_cache_key(query: str, sites: list[Site]) -> str:
    digest = hashlib.sha256(query.casefold().encode("utf-8")).hexdigest()[:32]
    return f"catalog:search:{CACHE_VERSION}:{'+'.join(s.value for s in sites)}:{digest}"


def error_code(error: CatalogError) -> str:
    if isinstance(error, SiteBlocking):
        return "site_blocking"
    if isinstance(error, SiteUnavailable):
        return "site_unavailable"
    if isinstance(error, LayoutChanged):
        return "layout_changed"
    return "catalog_error"


def result_data(result: SearchResult) -> dict[str, Any]:
    return {
        "site": result.site.value,
        "slug": result.slug,
        "reference": f"{result.site.value}:{result.slug}",
        "title": result.title,
        "url": result.url,
        "year": result.year,
        "description": result.description,
        "cover_url": result.cover_url,
    }


COVER_CACHE_SECONDS = 24 * 3600
MAX_CACHED_COVER_BYTES = 512 * 1024


def search_cover(url: str) -> tuple[bytes, str]:
    """A search result's cover from its catalog site, cached for a day (covers are fetched politely, once)."""
    key = f"catalog:cover:{CACHE_VERSION}:{hashlib.sha256(url.encode('utf-8')).hexdigest()[:32]}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    body, content_type = services.download_cover(url)
    if len(body) <= MAX_CACHED_COVER_BYTES:
        cache.set(key, (body, content_type), COVER_CACHE_SECONDS)
    return body, content_type


def site_state_data(state: services.SiteState) -> dict[str, Any]:
    return {
        "site": state.site.value,
        "label": state.site.label,
        "state": state.state,
        "detail": state.detail,
        "base_url": state.base_url,
        "retry_at": state.retry_at.isoformat() if state.retry_at else None,
        "checked": state.checked,
    }


def site_states() -> list[dict[str, Any]]:
    """Every catalog site's state as far as known without sending a request (for the dashboard)."""
    return [site_state_data(services.site_state(site)) for site in Site]


def warning_data(site: Site, error: CatalogError) -> dict[str, Any]:
    retry_at = error.retry_at if isinstance(error, SiteBlocking) else None
    return {
        "site": site.value,
        "code": error_code(error),
        "message": str(error),
        "retry_at": retry_at.isoformat() if retry_at else None,
    }


class AllSitesFailed(Exception):
    def __init__(self, failures: dict[Site, CatalogError]):
        super().__init__("every catalog site failed")
        self.failures = failures

    @property
    def blocking(self) -> SiteBlocking | None:
        blocks = [f for f in self.failures.values() if isinstance(f, SiteBlocking)]
        return min(blocks, key=lambda b: b.retry_at) if len(blocks) == len(self.failures) else None

    def retry_after_seconds(self) -> int | None:
        block = self.blocking
        return block.retry_after_seconds() if block is not None else None


def search_catalog(query: str, site: Site | None = None, *, check_now: bool = False) -> dict[str, Any]:
    """Merged results of the chosen sites; cached when every site answered. Raises AllSitesFailed.

    A site known to block us is not asked until its retry time, unless ``check_now``.
    """
    sites = [site] if site else list(Site)
    if check_now:
        for chosen in sites:
            services.check_now(chosen)
    key = search_cache_key(query, sites)
    cached = cache.get(key)
    if cached is not None:
        return {**cached, "cached": True}
    outcome = services.search_sites(query, sites)
    if outcome.failures and not outcome.results and len(outcome.failures) == len(sites):
        raise AllSitesFailed(outcome.failures)
    data = {
        "query": query,
        "sites": [s.value for s in sites],
        "results": [result_data(r) for r in outcome.results],
        "warnings": [warning_data(s, e) for s, e in outcome.failures.items()],
    }
    if not outcome.failures:
        cache.set(key, data, SEARCH_CACHE_SECONDS)
    return {**data, "cached": False}


SOURCES_CACHE_SECONDS = 300


def sources_cache_key(site: Site, slug: str, season: int, number: int) -> str:
    return f"catalog:sources:{CACHE_VERSION}:{Site(site).value}:{slug}:{season}:{number}"


def episode_sources(site: Site, slug: str, season: int, number: int, *, check_now: bool = False) -> dict[str, Any]:
    """The languages an episode page offers and the hosters per language, each saying whether a resolver exists.

    Cached for a few minutes. A site known to block us is not asked (SiteBlocking) unless ``check_now``,
    which also skips the cache.
    """
    site = Site(site)
    key = sources_cache_key(site, slug, season, number)
    if check_now:
        services.check_now(site)
    else:
        cached = cache.get(key)
        if cached is not None:
            return {**cached, "cached": True}
    sources = services.fetch_episode_sources(site, slug, season, number)
    by_language: dict[str, list[dict[str, Any]]] = {language.value: [] for language in sources.languages}
    for link in sources.hosters:
        hosters = by_language.setdefault(link.language.value, [])
        if any(entry["hoster"] == link.hoster for entry in hosters):
            continue
        resolver = resolvers.resolver_by_name(link.hoster)
        hosters.append({"hoster": link.hoster, "supported": resolver is not None})
    data = {
        "site": site.value,
        "url": sources.episode.url,
        "title_de": sources.episode.title_de,
        "title_en": sources.episode.title_en,
        "languages": [
            {"language": value, "label": Language(value).label, "hosters": hosters}
            for value, hosters in by_language.items()
        ],
        "fetched_at": datetime.now(UTC).isoformat(),
    }
    cache.set(key, data, SOURCES_CACHE_SECONDS)
    return {**data, "cached": False}
