"""Read side of the catalog for the API: search across sites with a short-lived cache."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.cache import cache

from apps.catalog import services
from apps.catalog.types import CatalogError, LayoutChanged, SearchResult, Site, SiteBlocking, SiteUnavailable

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
