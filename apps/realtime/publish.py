"""The one way to send a realtime event: ``publish()`` and, for progress, ``ProgressPublisher``.

Every task and service calls these (never the channel layer directly). Publishing is
fire-and-forget through the Channels Redis layer: ``group_send`` appends to each web
process's bounded inbox in Redis and returns, so a slow browser never makes a worker
wait, and if Redis is down the event is logged and dropped — the caller never sees an
exception for it (the database stays the source of truth; clients re-fetch state on
reconnect).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from apps.realtime.events import (
    EventType,
    coalesce_key,
    make_frame,
    normalise_rooms,
    room_group,
    session_group,
)
from apps.realtime.layer import channel_layer, run_sync

logger = logging.getLogger("aniworld.realtime")

GROUP_MESSAGE_TYPE = "realtime.event"  # dispatched to RealtimeConsumer.realtime_event
PUBLISH_TIMEOUT_SECONDS = 2.0
_DROP_LOG_INTERVAL_SECONDS = 30.0


def progress_interval_seconds() -> float:
    """Minimum time between two progress frames of one item (a few frames a second at most)."""
    return float(getattr(settings, "REALTIME_PROGRESS_INTERVAL_SECONDS", 0.25))


def build_message(
    event_type: EventType | str, data: dict[str, Any], rooms: Iterable[str] | str | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Validate an event and turn it into the group message every consumer receives.

    Raises ValueError/TypeError for programming errors (unknown type or room, data
    that is not JSON) — those are bugs in the caller, not delivery failures.
    """
    event_type = EventType(event_type)
    if not isinstance(data, dict):
        raise TypeError("event data must be a dict")
    data = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    rooms = normalise_rooms(rooms, event_type, data)
    message = {
        "type": GROUP_MESSAGE_TYPE,
        "event_id": uuid.uuid4().hex,
        "event_type": event_type.value,
        "coalesce": coalesce_key(event_type, data),
        "data": data,  # for the hub's progress batches
        "text": json.dumps(make_frame(event_type, data)),  # serialised once, not once per socket
    }
    return message, rooms


class _DropLog:
    """Log delivery failures at most every 30 s, so a Redis outage doesn't flood the logs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0.0
        self._dropped = 0

    def dropped(self, event_type: str, error: BaseException) -> None:
        with self._lock:
            self._dropped += 1
            now = time.monotonic()
            if now - self._last < _DROP_LOG_INTERVAL_SECONDS:
                return
            count, self._dropped, self._last = self._dropped, 0, now
        logger.warning(
            "realtime: dropped %d event(s) (last: %s) because the channel layer failed: %s: %s",
            count,
            event_type,
            type(error).__name__,
            error,
        )


_drop_log = _DropLog()


async def _group_send_all(message: dict[str, Any], rooms: list[str]) -> None:
    layer = channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer is configured")
    for room in rooms:
        group = room_group(room)
        await layer.group_send(group, {**message, "group": group})


def publish(event_type: EventType | str, data: dict[str, Any], rooms: Iterable[str] | str | None = None) -> bool:
    """Send an event to every client in ``rooms`` (default: the event's usual room) on every web process.

    Synchronous and safe from Celery tasks, views and shells. Returns False when the event
    could not be handed to Redis (logged, never raised); waits at most a couple of seconds.
    """
    message, rooms = build_message(event_type, data, rooms)
    try:
        run_sync(lambda: _group_send_all(message, rooms), PUBLISH_TIMEOUT_SECONDS)
    except Exception as error:
        _drop_log.dropped(message["event_type"], error)
        return False
    return True


class ProgressPublisher:
    """Throttled progress of one item: at most one frame per ``min_interval``, the latest state wins.

    ``update()`` sends at once if the interval has passed, else keeps the state as
    pending (replacing an older pending one). The next update after the interval
    sends the newest state; ``flush()`` sends a pending state now; ``complete()`` and
    ``fail()`` always go out (a pending intermediate state is superseded by them).

        progress = ProgressPublisher.for_download(item.id, series_id=item.series_id)
        for chunk in ...:
            progress.update(percent=..., downloaded_bytes=..., total_bytes=..., speed_bytes_per_second=...)
        progress.complete(path=str(final_path))
    """

    def __init__(
        self,
        identity: dict[str, Any],
        *,
        progress_type: EventType = EventType.DOWNLOAD_PROGRESS,
        complete_type: EventType = EventType.DOWNLOAD_COMPLETE,
        failed_type: EventType = EventType.DOWNLOAD_FAILED,
        final_fields: dict[str, Any] | None = None,
        rooms: Iterable[str] | None = None,
        min_interval: float | None = None,
        send: Callable[[EventType, dict[str, Any], list[str] | None], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.identity = dict(identity)
        self.progress_type = progress_type
        self.complete_type = complete_type
        self.failed_type = failed_type
        self.final_fields = dict(final_fields or {})
        self.rooms = list(rooms) if rooms is not None else None
        self.min_interval = progress_interval_seconds() if min_interval is None else min_interval
        self._send = send or publish
        self._clock = clock
        self._last_sent: float | None = None
        self._pending: dict[str, Any] | None = None
        self._finished = False
        self.sent = 0
        self.coalesced = 0

    @classmethod
    def for_download(cls, item_id: int, series_id: int | None = None, **kwargs: Any) -> ProgressPublisher:
        identity: dict[str, Any] = {"item_id": item_id}
        if series_id is not None:
            identity["series_id"] = series_id
        return cls(identity, **kwargs)

    @classmethod
    def for_library_scan(cls, scan_id: str, **kwargs: Any) -> ProgressPublisher:
        return cls(
            {"scan_id": scan_id},
            progress_type=EventType.LIBRARY_SCAN_PROGRESS,
            complete_type=EventType.LIBRARY_SCAN_PROGRESS,
            failed_type=EventType.LIBRARY_SCAN_PROGRESS,
            final_fields={"finished": True},
            **kwargs,
        )

    @property
    def has_pending(self) -> bool:
        return self._pending is not None

    def update(self, **state: Any) -> bool:
        """Report the item's current state; returns True if a frame went out now."""
        if self._finished:
            return False
        now = self._clock()
        if self._last_sent is not None and now - self._last_sent < self.min_interval:
            if self._pending is not None:
                self.coalesced += 1
            self._pending = state
            return False
        if self._pending is not None:
            self.coalesced += 1  # the newer state replaces the one that waited
        self._pending = None
        return self._emit(self.progress_type, state, now)

    def flush(self) -> bool:
        """Send the pending state (if any) regardless of the interval."""
        if self._finished or self._pending is None:
            return False
        state, self._pending = self._pending, None
        return self._emit(self.progress_type, state, self._clock())

    def complete(self, **fields: Any) -> bool:
        return self._finish(self.complete_type, fields)

    def fail(self, reason: str, **fields: Any) -> bool:
        return self._finish(self.failed_type, {"error": reason, **fields})

    def _finish(self, event_type: EventType, fields: dict[str, Any]) -> bool:
        if self._finished:
            return False
        if self._pending is not None:
            self.coalesced += 1
        self._pending = None
        self._finished = True
        return self._emit(event_type, {**fields, **self.final_fields}, self._clock())

    def _emit(self, event_type: EventType, fields: dict[str, Any], now: float) -> bool:
        self._last_sent = now
        self.sent += 1
        return self._send(event_type, {**fields, **self.identity}, self.rooms)


def disconnect_session(session_key: str | None) -> bool:
    """Close every socket opened by this login session, on every web process (call it on logout).

    Sockets also notice a logout on their own (they re-check the session every 30 s and
    on each client action); this makes it immediate. Never raises.
    """
    if not session_key:
        return False
    message = {"type": "realtime.force_logout"}
    try:
        run_sync(lambda: channel_layer().group_send(session_group(session_key), message), PUBLISH_TIMEOUT_SECONDS)
    except Exception as error:
        _drop_log.dropped("force_logout", error)
        return False
    return True
