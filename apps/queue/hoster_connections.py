"""How many parallel connections a download from each hoster gets, and what downloads learned about hosters.

Hosters cap the speed of each connection, so the engine fetches a file over
``ANIWORLD_DOWNLOAD_CONNECTIONS`` connections (default 8);
``ANIWORLD_HOSTER_CONNECTIONS`` (``VOE:1,Filemoon:4``) caps named hosters.

Some hosters ban parallel connections: when one answers 429/403 to parallel
range requests, the engine finishes that download over one connection and the
worker remembers it here, in the cache (Redis, shared by every worker) for
:data:`REMEMBER_SECONDS`; until then that hoster gets one connection. Losing
the memory costs one refused request that learns it again. The hoster
scorecard reads :func:`parallel_refused`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TypedDict

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger("aniworld.download")

CACHE_KEY = "queue:hoster:v1:{hoster}:parallel-refused"
REMEMBER_SECONDS = 7 * 24 * 3600


class ParallelRefused(TypedDict):
    status: int  # the HTTP status the hoster answered to parallel ranges (429 or 403)
    at: str  # ISO time (UTC) it last did


def _key(hoster: str) -> str:
    return CACHE_KEY.format(hoster=hoster.strip().lower())


def connections_for(hoster: str) -> int:
    """Parallel connections for one download from ``hoster``: the setting, its cap, or 1 once it refused."""
    if parallel_refused(hoster) is not None:
        return 1
    limit = settings.HOSTER_CONNECTIONS.get(hoster.strip().lower())
    return min(settings.DOWNLOAD_CONNECTIONS, limit) if limit else settings.DOWNLOAD_CONNECTIONS


def remember_parallel_refused(hoster: str, status: int) -> None:
    entry: ParallelRefused = {"status": int(status), "at": datetime.now(UTC).isoformat()}
    try:
        cache.set(_key(hoster), entry, timeout=REMEMBER_SECONDS)
    except Exception as exc:  # the cache (Redis) is down: the download goes on; the next one learns it again
        logger.warning("could not remember that %s refused parallel ranges: %s", hoster, exc)


def parallel_refused(hoster: str) -> ParallelRefused | None:
    """What the hoster answered to parallel ranges the last time it refused them (None: it did not, or unknown)."""
    try:
        return cache.get(_key(hoster))
    except Exception as exc:  # the cache (Redis) is down: assume it did not; the engine falls back by itself
        logger.warning("could not read what %s answered to parallel ranges: %s", hoster, exc)
        return None


def forget(hoster: str) -> None:
    cache.delete(_key(hoster))
