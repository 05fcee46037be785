"""What Aniworld knows about a catalog site blocking us, shared by every process (web and workers).

A site that blocked us (DDoS-Guard, captcha, 429) is left alone until its retry
time: :mod:`apps.catalog.services` answers from the known block without sending
a request, unless the caller asks to check now. The memory lives in the cache
(Redis); losing it costs one request that learns the block again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.cache import cache

from apps.catalog.types import Site, SiteBlocking

CACHE_KEY = "catalog:block:v1:{site}"


def remember(site: Site, block: SiteBlocking) -> None:
    seconds = block.retry_after_seconds()
    cache.set(
        CACHE_KEY.format(site=Site(site).value),
        {"message": str(block), "retry_at": block.retry_at.isoformat()},
        timeout=seconds,
    )


def forget(site: Site) -> None:
    cache.delete(CACHE_KEY.format(site=Site(site).value))


def known(site: Site) -> SiteBlocking | None:
    """The site's block while its retry time is ahead, as a SiteBlocking naming that nothing was sent."""
    entry = cache.get(CACHE_KEY.format(site=Site(site).value))
    if not entry:
        return None
    retry_at = datetime.fromisoformat(entry["retry_at"])
    if retry_at <= datetime.now(UTC):
        return None
    return SiteBlocking(
        f"{Site(site).label} is blocking us; nothing was sent before {retry_at:%H:%M} UTC "
        f"(ask to check now to try anyway). Last answer: {entry['message']}",
        retry_at,
    )
