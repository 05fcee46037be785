"""Queue changes reach the realtime layer (the real Channels Redis layer), progress is throttled."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest

from apps.queue import services
from apps.queue.models import DownloadItem
from apps.realtime.events import room_group
from apps.realtime.layer import channel_layer, run_sync

pytestmark = pytest.mark.django_db(transaction=True)


def listen(room: str) -> str:
    layer = channel_layer()
    channel = run_sync(layer.new_channel, 5)
    run_sync(lambda: layer.group_add(room_group(room), channel), 5)
    return channel


def frames(channel: str, wait: float = 1.0) -> list[dict]:
    layer = channel_layer()
    received = []

    async def receive_until_quiet():
        while True:
            message = await asyncio.wait_for(layer.receive(channel), wait)
            received.append(json.loads(message["text"]))  # the frame, serialised once by the publisher

    with contextlib.suppress(TimeoutError):  # quiet for `wait` seconds: everything has arrived
        run_sync(receive_until_quiet, wait * 10)
    return received


def test_queue_state_changes_and_additions_are_published(make_episodes, library, sent):
    channel = listen("queue")
    services.stop_queue()
    services.enqueue_episodes([make_episodes(1)[0].pk])
    services.start_queue()
    received = frames(channel)
    types = [frame["type"] for frame in received]
    assert "queue_stopped" in types and "queue_started" in types
    statuses = [frame["data"] for frame in received if frame["type"] == "queue_status"]
    assert any(data["reason"] == "added" and data["counts"]["pending"] == 1 for data in statuses)
    assert any(data["reason"] == "dispatched" for data in statuses)


def test_completion_is_published_to_the_downloads_room(make_episodes, library, sent):
    (episode,) = make_episodes(1)
    channel = listen("downloads")
    (item,) = services.enqueue_episodes([episode.pk])["queued"]

    task_id = DownloadItem.objects.get(pk=item["id"]).task_id
    services.acquire_lease(item["id"], task_id, "w")
    (library / "ep.mkv").write_bytes(b"x")
    services.complete_item(item["id"], "w", relative_path="ep.mkv", size=1, language="de")
    (complete,) = [frame for frame in frames(channel) if frame["type"] == "download_complete"]
    assert complete["data"]["item_id"] == item["id"]
    assert complete["data"]["series_id"] == episode.season.series_id
