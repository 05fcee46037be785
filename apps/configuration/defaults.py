"""Default values and the fixed vocabularies the owner's settings are checked against.

Kept free of model imports so validation, selectors and migrations can all use it.
"""

from __future__ import annotations

from datetime import time

from apps.catalog.conf import DEFAULT_BASE_URL, DEFAULT_SITE_REQUESTS_PER_SECOND
from apps.catalog.resolvers import default_hoster_order, supported_hosters
from apps.catalog.types import Language

SETTINGS_ROW_ID = 1

# Limits: validation enforces them and the API serializers declare them (one place for both).
DEFAULT_MAX_CONCURRENT_DOWNLOADS = 2
MAX_CONCURRENT_DOWNLOADS = 20
DEFAULT_MAX_RETRIES = 3
MAX_RETRIES = 10
DEFAULT_RETRY_BACKOFF_SECONDS = 60
MAX_RETRY_BACKOFF_SECONDS = 6 * 3600  # one retry never waits longer than this
MAX_SPEED_LIMIT_BYTES = 10**12

DEFAULT_LANGUAGE_PREFERENCE = (Language.GERMAN_DUB.value, Language.GERMAN_SUB.value, Language.ENGLISH_SUB.value)


def known_hosters() -> tuple[str, ...]:
    """Hosters Aniworld can resolve (the catalog's resolver registry); canonical spelling first-class."""
    return supported_hosters()


DEFAULT_HOSTER_PREFERENCE = default_hoster_order()  # each resolver declares its rank in the registry

# docs/architecture.md "Files on disk"; rendered by apps.library.naming, which adds the extension (.mkv / .mp4).
DEFAULT_NAMING_TEMPLATE = (
    "{series_title} ({year})/Season {season:02d}/{series_title} - S{season:02d}E{episode:02d} - {episode_title}"
)
DEFAULT_PROVIDER_URLS = {site.value: url for site, url in DEFAULT_BASE_URL.items()}
DEFAULT_REQUEST_RATES = {site.value: rate for site, rate in DEFAULT_SITE_REQUESTS_PER_SECOND.items()}
MIN_REQUEST_RATE = 0.01
MAX_REQUEST_RATE = 50.0

DEFAULT_CHECK_NEW_EPISODES_HOURS = 12
MAX_CHECK_NEW_EPISODES_HOURS = 24 * 7
DEFAULT_NIGHTLY_RESCAN_TIME = time(3, 30)
DEFAULT_HISTORY_RETENTION_DAYS = 30
MAX_HISTORY_RETENTION_DAYS = 3650

NOTIFICATION_EVENTS = ("download_complete", "download_failed", "new_episodes")

SECRET_MASK = "********"  # noqa: S105  (the placeholder shown instead of a secret)


def default_language_preference() -> list[str]:
    return list(DEFAULT_LANGUAGE_PREFERENCE)


def default_hoster_preference() -> list[str]:
    return list(DEFAULT_HOSTER_PREFERENCE)


def default_provider_urls() -> dict[str, str]:
    return dict(DEFAULT_PROVIDER_URLS)


def default_request_rates() -> dict[str, float]:
    return dict(DEFAULT_REQUEST_RATES)


def default_notification_events() -> list[str]:
    return list(NOTIFICATION_EVENTS)


def default_notification_urls() -> list[str]:
    return []


# What the settings page calls each field (error messages name fields this way, never by their API names).
FIELD_LABELS = {
    "library_path": "Library folder",
    "max_concurrent_downloads": "Downloads at once",
    "max_retries": "Retries after a failure",
    "retry_backoff_seconds": "First retry after",
    "language_preference": "Language order",
    "hoster_preference": "Hoster order",
    "hoster_order_automatic": "Automatic hoster order",
    "naming_template": "File naming template",
    "provider_urls": "Catalog site URLs",
    "provider_urls.aniworld": "aniworld.to base URL",
    "provider_urls.sto": "s.to base URL",
    "request_rates": "Requests per second",
    "request_rates.aniworld": "aniworld.to requests per second",
    "request_rates.sto": "s.to requests per second",
    "check_new_episodes_hours": "Check for new episodes every",
    "auto_queue_new_episodes": "Queue new episodes automatically",
    "nightly_rescan_enabled": "Nightly rescan",
    "nightly_rescan_time": "Rescan time",
    "history_retention_days": "Keep finished downloads in history",
    "speed_limit_bytes": "Speed limit per download",
    "notification_urls": "Apprise URLs",
    "notification_events": "Notify about",
    "jellyfin_url": "Jellyfin / Emby URL",
    "jellyfin_api_key": "Jellyfin API key",
    "plex_url": "Plex URL",
    "plex_token": "Plex token",
    "plex_section_id": "Plex section id",
    "ffmpeg": "ffmpeg",
}


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " ").replace(".", " ").capitalize())
