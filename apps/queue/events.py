"""Every realtime event of the queue goes through :func:`publish_queue_event`.

It hands the event to the realtime app's publisher (``apps.realtime.publish``)
when that is installed, else only logs it. Publishing never raises: the
database is the source of truth and clients re-read the state on reconnect.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("aniworld.download")

DOWNLOAD_PROGRESS = "download_progress"
DOWNLOAD_COMPLETE = "download_complete"
DOWNLOAD_FAILED = "download_failed"
QUEUE_STATUS = "queue_status"
QUEUE_STARTED = "queue_started"
QUEUE_STOPPED = "queue_stopped"
QUEUE_PAUSED = "queue_paused"
QUEUE_RESUMED = "queue_resumed"


def _realtime_publisher() -> Callable[[str, dict[str, Any]], Any] | None:
    try:
        from apps.realtime.publish import publish
    except ImportError:
        return None
    return publish


def publish_queue_event(event_type: str, data: dict[str, Any]) -> None:
    """Send one event to the browsers (via the realtime layer); log and swallow any failure."""
    publisher = _realtime_publisher()
    if publisher is None:
        logger.debug("queue event %s %s (no realtime publisher installed)", event_type, data)
        return
    try:
        publisher(event_type, data)
    except Exception as exc:
        logger.warning("queue event %s not published: %s: %s", event_type, type(exc).__name__, exc)


class ProgressReporter:
    """Progress of one item to the browsers: at most one event per ``min_interval`` seconds, newest wins."""

    def __init__(
        self,
        item_id: int,
        series_id: int | None = None,
        min_interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.item_id = item_id
        self.series_id = series_id
        self.min_interval = min_interval
        self._clock = clock
        self._last: float | None = None
        self._lock = threading.Lock()
        self.sent = 0

    def report(self, **state: Any) -> bool:
        with self._lock:
            now = self._clock()
            if self._last is not None and now - self._last < self.min_interval:
                return False
            self._last = now
            self.sent += 1
        publish_queue_event(DOWNLOAD_PROGRESS, {"item_id": self.item_id, "series_id": self.series_id, **state})
        return True
