"""How many parallel connections a download from a hoster gets.

Hosters cap the speed of each connection, so the engine fetches a file over
``ANIWORLD_DOWNLOAD_CONNECTIONS`` connections (default 8);
``ANIWORLD_HOSTER_CONNECTIONS`` (``VOE:1,Filemoon:4``) caps named hosters.
A hoster that answered 429/403 to parallel ranges is remembered by the hoster
scorecard (:func:`apps.scorecard.services.mark_single_connection`, the engine's
``on_parallel_refused`` callback) and gets one connection while
:func:`apps.scorecard.selectors.allows_parallel` says so.
"""

from __future__ import annotations

from django.conf import settings

from apps.catalog.types import Site
from apps.scorecard import selectors as scorecard


def connections_for(site: Site | str, hoster: str) -> int:
    """Parallel connections for one download from ``hoster``: the setting, its cap, or 1 once it refused."""
    if not scorecard.allows_parallel(site, hoster):
        return 1
    limit = settings.HOSTER_CONNECTIONS.get(hoster.strip().lower())
    return min(settings.DOWNLOAD_CONNECTIONS, limit) if limit else settings.DOWNLOAD_CONNECTIONS
