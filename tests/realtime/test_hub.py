"""The per-process room hub: one group member per process, progress batched per loop turn, cheap leaving."""

from __future__ import annotations

from unittest import mock

import pytest
from channels.layers import get_channel_layer

from apps.realtime.events import room_group
from apps.realtime.hub import BATCH_FRAME_TYPE, hub
from apps.realtime.publish import build_message
from tests.realtime.conftest import communicator, connect_ok, next_frame
from tests.realtime.test_consumer import joined

pytestmark = pytest.mark.django_db(transaction=True)


async def group_members(group: str) -> int:
    layer = get_channel_layer()
    async with layer.connection(layer.consistent_hash(group)) as connection:
        return await connection.zcard(layer._group_key(group))


async def sockets(login, count: int, *rooms: str):
    comms = []
    for _ in range(count):
        comm = await connect_ok(communicator(session_key=(await login()).session_key))
        await next_frame(comm)
        await joined(comm, *rooms)
        comms.append(comm)
    return comms


def message(event_type: str, data: dict, room: str = "downloads") -> dict:
    built, _ = build_message(event_type, data, [room])
    return {**built, "group": room_group(room)}


async def test_a_room_of_many_sockets_has_one_member_per_process(login):
    comms = await sockets(login, 3, "downloads")
    assert await group_members(room_group("downloads")) == 1
    for comm in comms:
        await comm.disconnect()


async def test_progress_of_one_turn_is_one_batch_frame_and_a_lone_event_a_plain_one(login):
    (comm,) = await sockets(login, 1, "downloads", "series:5")
    first = message("download_progress", {"item_id": 1, "series_id": 5, "percent": 10})
    await hub.deliver(first)
    await hub.deliver({**first, "group": room_group("series:5")})  # the same event through a second room
    await hub.deliver(message("download_progress", {"item_id": 2, "percent": 20}))
    frame = await next_frame(comm)
    assert frame["type"] == BATCH_FRAME_TYPE
    assert [item["item_id"] for item in frame["data"]["items"]] == [1, 2]
    await hub.deliver(message("download_progress", {"item_id": 2, "percent": 30}))
    frame = await next_frame(comm)
    assert frame["type"] == "download_progress" and frame["data"]["percent"] == 30
    assert await comm.receive_nothing(timeout=0.3)
    await comm.disconnect()


async def test_leaving_and_disconnecting_touch_no_room_group(login):
    comm, other = await sockets(login, 2, "downloads")
    layer = get_channel_layer()
    with mock.patch.object(layer, "group_discard", wraps=layer.group_discard) as discard:
        await comm.disconnect()
    assert [call.args[0] for call in discard.call_args_list if call.args[0].startswith("room.")] == []
    assert len(hub.members[room_group("downloads")]) == 1
    await other.disconnect()


async def test_published_events_skip_the_database_hop(login):
    (comm,) = await sockets(login, 1, "downloads")
    with mock.patch("channels.consumer.aclose_old_connections") as close_old:
        from apps.realtime.publish import _group_send_all, build_message

        await _group_send_all(*build_message("download_complete", {"item_id": 3}))
        assert (await next_frame(comm))["type"] == "download_complete"
        await layer_send_to(comm)
    close_old.assert_not_called()
    await comm.disconnect()


async def layer_send_to(comm) -> None:
    """A force-logout message to the socket's own channel also goes without the hop (and closes it)."""
    consumer_channel = next(iter(hub.members[room_group("downloads")])).channel_name
    await get_channel_layer().send(consumer_channel, {"type": "realtime.force_logout"})
    frame = await next_frame(comm)
    assert frame["data"]["code"] == "logged_out"
