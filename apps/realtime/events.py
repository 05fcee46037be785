"""The realtime event model: event types, frames and rooms (docs/architecture.md, "Realtime protocol").

A frame is the JSON object a browser receives: ``{"type", "data", "timestamp"}``.
An event is published to one or more *rooms*; each room is a Channels group, so
every subscribed socket on every web process gets it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NotRequired, TypedDict


class EventType(StrEnum):
    """Events published by tasks and services (server → client)."""

    DOWNLOAD_PROGRESS = "download_progress"
    DOWNLOAD_COMPLETE = "download_complete"
    DOWNLOAD_FAILED = "download_failed"
    QUEUE_STATUS = "queue_status"
    QUEUE_STARTED = "queue_started"
    QUEUE_STOPPED = "queue_stopped"
    QUEUE_PAUSED = "queue_paused"
    QUEUE_RESUMED = "queue_resumed"
    SYSTEM_INFO = "system_info"
    SYSTEM_WARNING = "system_warning"
    SYSTEM_ERROR = "system_error"
    LIBRARY_SCAN_PROGRESS = "library_scan_progress"


class ControlFrame(StrEnum):
    """Frames the socket itself sends (not published events)."""

    CONNECTED = "connected"
    PONG = "pong"
    ERROR = "error"


class Room(StrEnum):
    DOWNLOADS = "downloads"
    QUEUE = "queue"
    SYSTEM = "system"
    LIBRARY = "library"


SERIES_ROOM_PREFIX = "series:"
_SERIES_ROOM = re.compile(r"series:([1-9][0-9]{0,17})")
FIXED_ROOMS = frozenset(room.value for room in Room)


class DownloadProgressData(TypedDict):
    """Payload of download_progress; download_complete / download_failed carry item_id and series_id too."""

    item_id: int
    series_id: NotRequired[int | None]
    percent: NotRequired[float]
    downloaded_bytes: NotRequired[int]
    total_bytes: NotRequired[int | None]
    speed_bytes_per_second: NotRequired[float]
    eta_seconds: NotRequired[float | None]


class SystemMessageData(TypedDict):
    """Payload of system_info / system_warning / system_error."""

    code: str
    message: str
    details: NotRequired[dict[str, Any]]


class LibraryScanProgressData(TypedDict):
    scan_id: str
    done: int
    total: int | None
    finished: NotRequired[bool]


def series_room(series_id: int) -> str:
    return f"{SERIES_ROOM_PREFIX}{int(series_id)}"


def is_valid_room(room: object) -> bool:
    return isinstance(room, str) and (room in FIXED_ROOMS or _SERIES_ROOM.fullmatch(room) is not None)


def room_group(room: str) -> str:
    """The Channels group of a room (group names allow only ASCII letters, digits, '-', '_' and '.')."""
    if not is_valid_room(room):
        raise ValueError(f"unknown room {room!r}")
    return "room." + room.replace(":", ".")


def session_group(session_key: str) -> str:
    """The Channels group of every socket opened by one login session (hashed: the key is a secret)."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def default_rooms(event_type: EventType, data: dict[str, Any]) -> list[str]:
    """Where an event goes when the publisher names no rooms."""
    if event_type in (EventType.DOWNLOAD_PROGRESS, EventType.DOWNLOAD_COMPLETE, EventType.DOWNLOAD_FAILED):
        rooms = [Room.DOWNLOADS.value]
        if data.get("series_id"):
            rooms.append(series_room(data["series_id"]))
        return rooms
    if event_type.value.startswith("queue_"):
        return [Room.QUEUE.value]
    if event_type.value.startswith("system_"):
        return [Room.SYSTEM.value]
    return [Room.LIBRARY.value]


def coalesce_key(event_type: EventType | str, data: dict[str, Any]) -> str | None:
    """Frames with the same key replace each other while waiting to be sent: the latest state wins.

    Only states are coalesced (progress of one item, the queue snapshot); transitions
    such as download_complete are never dropped.
    """
    if event_type == EventType.DOWNLOAD_PROGRESS:
        return f"download_progress:{data.get('item_id')}"
    if event_type == EventType.LIBRARY_SCAN_PROGRESS and not data.get("finished"):
        return f"library_scan_progress:{data.get('scan_id')}"
    if event_type == EventType.QUEUE_STATUS:
        return "queue_status"
    return None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_frame(frame_type: EventType | ControlFrame | str, data: dict[str, Any], timestamp: str | None = None) -> dict:
    return {"type": str(frame_type), "data": data, "timestamp": timestamp or now_iso()}


def normalise_rooms(rooms: Iterable[str] | str | None, event_type: EventType, data: dict[str, Any]) -> list[str]:
    if rooms is None:
        return default_rooms(event_type, data)
    if isinstance(rooms, str):
        rooms = [rooms]
    cleaned = list(dict.fromkeys(str(room) for room in rooms))
    bad = [room for room in cleaned if not is_valid_room(room)]
    if bad:
        raise ValueError(f"unknown room(s) {bad!r}")
    return cleaned
