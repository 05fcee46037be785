"""The publisher: event validation, throttling/coalescing, delivery through Redis, and Redis being down."""

from __future__ import annotations

import json
import time

import pytest
from asgiref.sync import sync_to_async

from apps.realtime import publish as publish_module
from apps.realtime.events import EventType, default_rooms, is_valid_room, room_group
from apps.realtime.publish import ProgressPublisher, build_message, publish
from tests.realtime.conftest import GroupListener


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Sent:
    def __init__(self) -> None:
        self.frames: list[tuple[str, dict]] = []

    def __call__(self, event_type, data, rooms) -> bool:
        self.frames.append((str(event_type), data))
        return True


def test_progress_is_throttled_and_the_latest_state_wins():
    clock, sent = FakeClock(), Sent()
    progress = ProgressPublisher.for_download(7, series_id=2, min_interval=0.25, send=sent, clock=clock)
    assert progress.update(percent=1) is True
    for percent in (2, 3, 4):
        clock.now += 0.05
        assert progress.update(percent=percent) is False
    assert progress.has_pending
    clock.now += 0.2  # 0.35 s after the first frame
    assert progress.update(percent=5) is True
    assert [data["percent"] for _, data in sent.frames] == [1, 5]
    assert sent.frames[-1][1] == {"percent": 5, "item_id": 7, "series_id": 2}
    assert progress.coalesced == 3 and not progress.has_pending


def test_flush_sends_the_pending_state_and_complete_always_goes_out():
    clock, sent = FakeClock(), Sent()
    progress = ProgressPublisher.for_download(7, min_interval=10, send=sent, clock=clock)
    progress.update(percent=10)
    progress.update(percent=20)
    assert progress.flush() is True
    assert progress.flush() is False
    progress.update(percent=30)  # pending, superseded by complete
    assert progress.complete(path="/lib/x.mkv") is True
    assert progress.update(percent=99) is False and progress.complete() is False
    assert sent.frames == [
        ("download_progress", {"percent": 10, "item_id": 7}),
        ("download_progress", {"percent": 20, "item_id": 7}),
        ("download_complete", {"path": "/lib/x.mkv", "item_id": 7}),
    ]


def test_fail_is_a_final_frame_with_the_reason():
    sent = Sent()
    progress = ProgressPublisher.for_download(3, min_interval=10, send=sent, clock=FakeClock())
    progress.update(percent=1)
    progress.update(percent=2)
    assert progress.fail("hoster returned 404") is True
    assert sent.frames[-1] == ("download_failed", {"error": "hoster returned 404", "item_id": 3})
    assert progress.fail("again") is False


def test_library_scan_progress_ends_with_a_finished_frame():
    sent = Sent()
    scan = ProgressPublisher.for_library_scan("scan-1", min_interval=0, send=sent, clock=FakeClock())
    scan.update(done=1, total=3)
    scan.complete(done=3, total=3)
    assert sent.frames == [
        ("library_scan_progress", {"done": 1, "total": 3, "scan_id": "scan-1"}),
        ("library_scan_progress", {"done": 3, "total": 3, "finished": True, "scan_id": "scan-1"}),
    ]


def test_event_types_and_rooms():
    assert {e.value for e in EventType} == {
        "download_progress", "download_complete", "download_failed", "queue_status", "queue_started",
        "queue_stopped", "queue_paused", "queue_resumed", "system_info", "system_warning", "system_error",
        "library_scan_progress",
    }  # fmt: skip
    assert default_rooms(EventType.DOWNLOAD_PROGRESS, {"item_id": 1, "series_id": 4}) == ["downloads", "series:4"]
    assert default_rooms(EventType.QUEUE_PAUSED, {}) == ["queue"]
    assert default_rooms(EventType.SYSTEM_ERROR, {}) == ["system"]
    assert default_rooms(EventType.LIBRARY_SCAN_PROGRESS, {}) == ["library"]
    assert all(is_valid_room(r) for r in ("downloads", "queue", "system", "library", "series:12"))
    assert not any(is_valid_room(r) for r in ("series:", "series:0", "series:-1", "Downloads", "", None, 5))
    assert room_group("series:12") == "room.series.12"


def test_build_message_rejects_programming_errors():
    with pytest.raises(ValueError):
        build_message("download_started", {})
    with pytest.raises(ValueError):
        build_message("system_info", {"code": "x"}, ["kitchen"])
    with pytest.raises(TypeError):
        build_message("system_info", {"code": object()})
    message, rooms = build_message("queue_status", {"active": 1})
    assert rooms == ["queue"] and message["coalesce"] == "queue_status"
    frame = json.loads(message["text"])
    assert frame["type"] == "queue_status" and frame["data"] == {"active": 1}
    assert set(frame) == {"type", "data", "timestamp"}


@pytest.mark.django_db
async def test_publish_reaches_the_group_through_redis():
    async with GroupListener("downloads") as downloads, GroupListener("series:8") as series:
        assert await sync_to_async(publish)("download_progress", {"item_id": 1, "series_id": 8, "percent": 50})
        for listener in (downloads, series):
            message = await listener.receive()
            assert message["type"] == "realtime.event"
            assert message["frame"]["data"] == {"item_id": 1, "series_id": 8, "percent": 50}
            assert message["coalesce"] == "download_progress:1"


def test_publish_with_redis_down_logs_and_returns_false(settings, caplog, monkeypatch):
    monkeypatch.setattr(publish_module, "_drop_log", publish_module._DropLog())
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"], "prefix": "down"},
        }
    }
    started = time.monotonic()
    with caplog.at_level("WARNING", logger="aniworld.realtime"):
        assert publish("system_error", {"code": "x", "message": "y"}) is False
        progress = ProgressPublisher.for_download(1, min_interval=0)
        assert progress.update(percent=1) is False
        assert progress.complete() is False
    assert time.monotonic() - started < 10
    assert "dropped" in caplog.text
