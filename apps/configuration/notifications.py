"""Notifications (Apprise) and media-server refresh (Jellyfin/Emby, Plex).

Callers use :func:`notify` and :func:`request_media_refresh`: both only queue a
Celery task on ``maintenance`` after the caller's transaction commits and never
raise. The ``*_now`` functions do the network work; the tasks call them.
Target URLs, API keys and tokens are never logged.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from aniworld_site.tasks import REFRESH_MEDIA_SERVERS, SEND_NOTIFICATION, send_on_commit
from apps.configuration import defaults
from apps.configuration.selectors import get_settings
from apps.configuration.validation import quiet_apprise

logger = logging.getLogger(__name__)

DOWNLOAD_COMPLETE = "download_complete"
DOWNLOAD_FAILED = "download_failed"
NEW_EPISODES = "new_episodes"

MEDIA_SERVER_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def notify(event: str, title: str, body: str) -> bool:
    """Send a notification to every configured target that wants ``event``; True when one was queued."""
    if event not in defaults.NOTIFICATION_EVENTS:
        raise ValueError(f"unknown notification event {event!r}; known: {', '.join(defaults.NOTIFICATION_EVENTS)}")
    current = get_settings()
    if not current.notification_urls or event not in current.notification_events:
        return False
    send_on_commit(SEND_NOTIFICATION, args=[event, title, body])
    return True


def send_notification_now(event: str, title: str, body: str) -> bool:
    """Deliver through Apprise to every configured URL; True when every target accepted it."""
    import apprise

    current = get_settings()
    if not current.notification_urls or event not in current.notification_events:
        return False
    notify_type = {
        DOWNLOAD_COMPLETE: apprise.NotifyType.SUCCESS,
        DOWNLOAD_FAILED: apprise.NotifyType.FAILURE,
    }.get(event, apprise.NotifyType.INFO)
    with quiet_apprise():
        sender = apprise.Apprise()
        for url in current.notification_urls:
            sender.add(url)
        try:
            delivered = bool(sender.notify(title=title, body=body, notify_type=notify_type))
        except Exception as exc:
            logger.warning("notification %s failed: %s", event, type(exc).__name__)
            return False
    if delivered:
        logger.info("notification %s sent to %d target(s)", event, len(current.notification_urls))
    else:
        logger.warning("notification %s: at least one of %d target(s) failed", event, len(current.notification_urls))
    return delivered


# --- media servers ---------------------------------------------------------------------


@dataclass
class RefreshResult:
    server: str
    ok: bool
    detail: str


def request_media_refresh() -> bool:
    """Ask the configured media servers to rescan (after an import); True when one is configured."""
    current = get_settings()
    if not (current.jellyfin_url or current.plex_url):
        return False
    send_on_commit(REFRESH_MEDIA_SERVERS)
    return True


def _call(server: str, method: str, url: str, **kwargs: Any) -> RefreshResult:
    try:
        response = httpx.request(method, url, timeout=MEDIA_SERVER_TIMEOUT, follow_redirects=False, **kwargs)
    except Exception as exc:  # connection errors, bad URLs: reported, never raised
        detail = f"{server} unreachable: {type(exc).__name__}"
        logger.warning("media server refresh: %s", detail)
        return RefreshResult(server, False, detail)
    if response.status_code in (401, 403):
        detail = f"{server} refused the credentials (HTTP {response.status_code}); check the key/token"
    elif response.is_success:
        logger.info("media server refresh: %s accepted (HTTP %s)", server, response.status_code)
        return RefreshResult(server, True, f"HTTP {response.status_code}")
    else:
        detail = f"{server} answered HTTP {response.status_code}"
    logger.warning("media server refresh: %s", detail)
    return RefreshResult(server, False, detail)


def refresh_media_servers_now() -> list[dict[str, Any]]:
    """Trigger a library refresh on Jellyfin/Emby and Plex; failures are reported, never raised."""
    current = get_settings()
    results: list[RefreshResult] = []
    if current.jellyfin_url:
        results.append(
            _call(
                "jellyfin",
                "POST",
                f"{current.jellyfin_url}/Library/Refresh",
                headers={"X-Emby-Token": current.jellyfin_api_key},
            )
        )
    if current.plex_url:
        section = current.plex_section_id or "all"
        results.append(
            _call(
                "plex",
                "GET",
                f"{current.plex_url}/library/sections/{section}/refresh",
                params={"X-Plex-Token": current.plex_token},
            )
        )
    return [asdict(result) for result in results]
