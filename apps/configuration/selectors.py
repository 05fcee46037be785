"""Read access to the owner's settings, the same in every process of the cluster.

Each process keeps the settings row in memory together with its ``revision``.
Saving bumps the revision in the row and publishes it in the shared cache
(Redis); every access compares the published revision with the cached one (one
small Redis GET) and reloads the row when they differ. So a change saved by a
web process is seen by every worker on its next access, without a restart.

When Redis cannot be reached, the row is re-read from the database at most
every ``DB_FALLBACK_TTL`` seconds. Before the row exists (fresh install) or
while its table is missing (during ``migrate``), the defaults apply.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import time as time_of_day
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import DatabaseError, transaction

from apps.catalog.types import Language, Site
from apps.configuration import defaults
from apps.configuration.models import Settings

logger = logging.getLogger(__name__)

REVISION_CACHE_KEY = "configuration:revision"
DB_FALLBACK_TTL = 5.0  # seconds between database reads while Redis is unreachable
REDIS_RETRY_SECONDS = 5.0  # after a Redis error, how long to go without asking it

_UNAVAILABLE = object()
_lock = threading.Lock()
_cached: tuple[Settings, float] | None = None  # (row, monotonic time it was loaded)
_redis_down_until = 0.0


def invalidate_cache() -> None:
    """Forget this process's copy; the next access reads the database."""
    global _cached
    _cached = None


def publish_revision(revision: int) -> None:
    """Tell every process that settings revision ``revision`` is current (called after commit)."""
    try:
        cache.set(REVISION_CACHE_KEY, revision, timeout=None)
    except Exception as exc:  # Redis down: others fall back to DB_FALLBACK_TTL
        logger.warning("could not publish settings revision %s to the cache: %s", revision, exc)


def _shared_revision(now: float) -> object:
    global _redis_down_until
    if now < _redis_down_until:
        return _UNAVAILABLE
    try:
        return cache.get(REVISION_CACHE_KEY)
    except Exception as exc:
        _redis_down_until = now + REDIS_RETRY_SECONDS
        logger.warning("settings revision check failed, using the database every %ss: %s", DB_FALLBACK_TTL, exc)
        return _UNAVAILABLE


def _load_row() -> tuple[Settings, bool]:
    """The stored row, or unsaved defaults; the flag says whether the database answered."""
    try:
        with transaction.atomic():
            row = Settings.objects.filter(pk=defaults.SETTINGS_ROW_ID).first()
    except DatabaseError as exc:  # table not migrated yet
        logger.debug("settings table unavailable, using defaults: %s", exc)
        return Settings(pk=defaults.SETTINGS_ROW_ID), False
    return row or Settings(pk=defaults.SETTINGS_ROW_ID), True


def get_settings() -> Settings:
    """The owner's settings (treat the returned object as read-only; change settings through services)."""
    global _cached
    now = time.monotonic()
    shared = _shared_revision(now)
    cached = _cached
    if cached is not None:
        row, loaded_at = cached
        if shared is _UNAVAILABLE and now - loaded_at < DB_FALLBACK_TTL:
            return row
        if shared is not _UNAVAILABLE and shared == row.revision:
            return row
    with _lock:
        row, from_database = _load_row()
        if not from_database:
            return row
        _cached = (row, now)
    if shared is not _UNAVAILABLE and shared != row.revision:
        publish_revision(row.revision)
    return row


# --- accessors used across the project ------------------------------------------------


def library_root() -> Path:
    """The library directory every node mounts (until configured: ANIWORLD_LIBRARY_DIR or <data>/library)."""
    configured = get_settings().library_path
    return Path(configured) if configured else Path(django_settings.DEFAULT_LIBRARY_DIR)


def max_concurrent_downloads() -> int:
    return get_settings().max_concurrent_downloads


def max_retries() -> int:
    return get_settings().max_retries


def retry_backoff_seconds(attempt: int = 1) -> int:
    """Delay before retry number ``attempt`` (1 = first retry): base, 2x base, 4x base, … capped at 6 h."""
    base = get_settings().retry_backoff_seconds
    return min(defaults.MAX_RETRY_BACKOFF_SECONDS, base * 2 ** max(0, attempt - 1))


def language_preference() -> list[Language]:
    return [Language(value) for value in get_settings().language_preference]


def language_options() -> list[dict[str, object]]:
    """Every language for an ordered checkbox list: the owner's choices checked, in their order, then the rest."""
    chosen = language_preference()
    rest = [language for language in Language if language not in chosen]
    return [
        {"value": language.value, "label": language.label, "checked": language in chosen}
        for language in [*chosen, *rest]
    ]


def hoster_preference() -> list[str]:
    return list(get_settings().hoster_preference)


def hoster_order_automatic() -> bool:
    """Whether downloads try the hosters that worked best recently first (``apps.scorecard``)."""
    return get_settings().hoster_order_automatic


def naming_template() -> str:
    return get_settings().naming_template


def provider_base_url(site: Site | str) -> str:
    """Base URL of a catalog site without a trailing slash, e.g. ``https://aniworld.to``."""
    key = Site(site).value
    return (get_settings().provider_urls.get(key) or defaults.DEFAULT_PROVIDER_URLS[key]).rstrip("/")


def request_rate(site: Site | str) -> float:
    """Allowed requests per second to a catalog site."""
    key = Site(site).value
    return float(get_settings().request_rates.get(key) or defaults.DEFAULT_REQUEST_RATES[key])


def speed_limit() -> int:
    """Download speed limit in bytes per second for each download; 0 = unlimited."""
    return get_settings().speed_limit_bytes


def auto_queue_new_episodes() -> bool:
    return get_settings().auto_queue_new_episodes


def history_retention_days() -> int:
    """Days of finished queue history to keep; 0 = keep forever."""
    return get_settings().history_retention_days


def nightly_rescan_time() -> time_of_day | None:
    current = get_settings()
    return current.nightly_rescan_time if current.nightly_rescan_enabled else None


def catalog_setting(key: str) -> Any:
    """The settings source of ``apps.catalog.conf`` (registered at startup): owner settings by catalog key.

    ``catalog.requests_per_second`` has no site, so it gets the slowest configured site rate;
    ``catalog.requests_per_second:<site>`` gets that site's rate.
    """
    from apps.catalog import conf

    for site, site_key in conf.KEY_BASE_URL.items():
        if key == site_key:
            return provider_base_url(site)
    if key == conf.KEY_HOSTER_ORDER:
        return hoster_preference()
    if key == conf.KEY_REQUESTS_PER_SECOND:
        return min(request_rate(site) for site in Site)
    prefix = f"{conf.KEY_REQUESTS_PER_SECOND}:"
    if key.startswith(prefix) and key.removeprefix(prefix) in {site.value for site in Site}:
        return request_rate(key.removeprefix(prefix))
    return None


def setup_completed() -> bool:
    """Whether the first-run wizard (library path and languages) has been completed."""
    return get_settings().setup_completed_at is not None
