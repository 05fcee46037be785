"""Realtime events of the queue: its event names, :func:`publish_queue_event`, and per-download progress.

The queue services publish state changes here; download progress goes through
the throttled :func:`download_progress` publisher, and notices for the owner
(a site blocking us, a lost worker) through :mod:`apps.realtime.system`. All of
them go to the realtime app's publisher, which logs and drops an event it cannot
hand to Redis instead of raising: the database is the source of truth and
browsers re-read the queue state when they reconnect.
"""

from __future__ import annotations

from typing import Any

from apps.realtime.events import EventType
from apps.realtime.publish import ProgressPublisher, publish

DOWNLOAD_PROGRESS = EventType.DOWNLOAD_PROGRESS
DOWNLOAD_COMPLETE = EventType.DOWNLOAD_COMPLETE
DOWNLOAD_FAILED = EventType.DOWNLOAD_FAILED
QUEUE_STATUS = EventType.QUEUE_STATUS
QUEUE_STARTED = EventType.QUEUE_STARTED
QUEUE_STOPPED = EventType.QUEUE_STOPPED
QUEUE_PAUSED = EventType.QUEUE_PAUSED
QUEUE_RESUMED = EventType.QUEUE_RESUMED


def publish_queue_event(event_type: EventType, data: dict[str, Any]) -> None:
    """Send one queue event to the browsers in its usual room (and the series room when named)."""
    publish(event_type, data)


def download_progress(item_id: int, series_id: int | None) -> ProgressPublisher:
    """The throttled progress publisher for one download (a few frames a second at most, newest wins)."""
    return ProgressPublisher.for_download(item_id, series_id)
