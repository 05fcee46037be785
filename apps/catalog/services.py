"""What the rest of Aniworld calls to use the catalog sites (filled in by the Catalog issue).

Every function raises a subclass of :class:`apps.catalog.types.CatalogError`
with a message that names the site, the step and what to do.
"""

from __future__ import annotations

from apps.catalog.types import EpisodeInfo, EpisodeSources, HosterLink, MediaSource, SearchResult, SeriesDetails, Site


def search(query: str, site: Site | None = None) -> list[SearchResult]:
    raise NotImplementedError


def fetch_series(site: Site, slug: str) -> SeriesDetails:
    raise NotImplementedError


def fetch_episodes(site: Site, slug: str, season: int) -> list[EpisodeInfo]:
    raise NotImplementedError


def fetch_episode_sources(site: Site, slug: str, season: int, number: int) -> EpisodeSources:
    raise NotImplementedError


def resolve_media(link: HosterLink) -> MediaSource:
    """Follow the catalog redirect to the hoster embed page and resolve it to a media URL."""
    raise NotImplementedError


def download_cover(url: str) -> tuple[bytes, str]:
    """Fetch a cover image from the catalog site; returns (bytes, content type)."""
    raise NotImplementedError


def parse_series_reference(value: str) -> tuple[Site, str]:
    """Accept a catalog URL or "site:slug" and return (site, slug); raise ValueError when neither."""
    raise NotImplementedError
