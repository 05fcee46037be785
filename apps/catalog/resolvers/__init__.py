"""The hoster resolver registry: which resolver handles an embed URL, and the default hoster order.

One line in :data:`RESOLVERS` per hoster; each resolver declares its default rank
(:func:`default_hoster_order`) and its sample cases (the resolver tests run them
against the fake catalog site).

Choosing a resolver is part of the SSRF rule (see :mod:`apps.catalog.safety`):
the embed URL's host must be a domain some resolver claims; only on an
allow-listed host (tests, demo) is the resolver chosen by the hoster name the
catalog showed.
"""

from __future__ import annotations

from apps.catalog import conf
from apps.catalog.http import CatalogHttpClient
from apps.catalog.resolvers.base import HosterSession, Resolver
from apps.catalog.resolvers.doodstream import DoodstreamResolver
from apps.catalog.resolvers.filemoon import FilemoonResolver
from apps.catalog.resolvers.gupload import GUploadResolver
from apps.catalog.resolvers.loadx import LoadXResolver
from apps.catalog.resolvers.luluvdo import LuluvdoResolver
from apps.catalog.resolvers.speedfiles import SpeedFilesResolver
from apps.catalog.resolvers.streamtape import StreamtapeResolver
from apps.catalog.resolvers.vidara import VidaraResolver
from apps.catalog.resolvers.vidmoly import VidmolyResolver
from apps.catalog.resolvers.vidoza import VidozaResolver
from apps.catalog.resolvers.voe import VoeResolver
from apps.catalog.safety import check_hoster_url, check_media_url, host_matches, is_allow_listed, split_host
from apps.catalog.types import HosterError, HosterRefused, MediaSource

RESOLVERS: tuple[Resolver, ...] = (
    VoeResolver(),
    DoodstreamResolver(),
    VidozaResolver(),
    VidmolyResolver(),
    FilemoonResolver(),
    StreamtapeResolver(),
    SpeedFilesResolver(),
    LuluvdoResolver(),
    LoadXResolver(),
    VidaraResolver(),
    GUploadResolver(),
)


def supported_hosters() -> tuple[str, ...]:
    return tuple(resolver.name for resolver in RESOLVERS)


def default_hoster_order() -> tuple[str, ...]:
    """Every supported hoster, most reliable first (by each resolver's ``default_rank``)."""
    return tuple(resolver.name for resolver in sorted(RESOLVERS, key=lambda resolver: resolver.default_rank))


def hoster_order() -> tuple[str, ...]:
    """The hoster order in force: the environment or the owner's setting, else the default order."""
    return conf.hoster_order() or default_hoster_order()


def resolver_by_name(hoster_name: str) -> Resolver | None:
    return next((resolver for resolver in RESOLVERS if resolver.matches_name(hoster_name)), None)


def resolver_by_host(url: str) -> Resolver | None:
    host = split_host(url)[1]
    return next((resolver for resolver in RESOLVERS if host_matches(host, resolver.domains)), None)


def choose_resolver(embed_url: str, hoster_name: str) -> Resolver:
    """The resolver for ``embed_url``: by its host; on an allow-listed host, by the catalog's hoster name."""
    resolver = resolver_by_host(embed_url)
    if resolver is not None:
        return resolver
    if is_allow_listed(embed_url):
        resolver = resolver_by_name(hoster_name)
        if resolver is None:
            raise HosterError(f"{hoster_name}: not supported (supported: {', '.join(supported_hosters())})")
        return resolver
    host = split_host(embed_url)[1]
    raise HosterRefused(
        f"refused to fetch {embed_url}: {host} is not a known domain of any supported hoster "
        f"(the catalog called it {hoster_name!r})"
    )


def resolve_embed(embed_url: str, hoster_name: str, client: CatalogHttpClient | None = None) -> MediaSource:
    """Resolve a hoster embed URL to a media URL, enforcing the SSRF rule before every fetch."""
    resolver = choose_resolver(embed_url, hoster_name)
    check_hoster_url(embed_url, resolver.domains, resolver.name)
    media = resolver.resolve(embed_url, HosterSession(resolver, client))
    try:
        check_media_url(media.url)
    except HosterRefused as exc:
        raise HosterRefused(f"{resolver.name}: the media URL was refused: {exc}") from exc
    return media
