"""GET /ws/status (the Redis registry, dead-process sweeping) and the system-event helpers."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import redis
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings

from apps.realtime import system
from apps.realtime.registry import alive_key, connections_key, processes_key
from apps.realtime.selectors import connection_status
from apps.realtime.worker_signals import announce_worker_ready, announce_worker_shutdown
from tests.realtime.conftest import GroupListener, action, communicator, connect_ok, next_frame, ping

pytestmark = pytest.mark.django_db(transaction=True)


def raw_redis() -> redis.Redis:
    return redis.Redis.from_url(django_settings.REDIS_URL)


async def test_status_counts_connections_and_rooms_and_forgets_closed_ones(login):
    session = (await login()).session_key
    first = await connect_ok(communicator(session_key=session))
    second = await connect_ok(communicator(session_key=session))
    for comm, rooms in ((first, ["downloads", "series:3"]), (second, ["downloads"])):
        await next_frame(comm)
        for room in rooms:
            await action(comm, action="join", room=room)
        await ping(comm)
    status = await sync_to_async(connection_status)()
    assert status["connections"] == 2
    assert status["rooms"] == {"downloads": 2, "series:3": 1}
    [process] = status["processes"]
    assert process["connections"] == 2 and process["auth"] == {"session": 2}

    await action(first, action="leave", room="series:3")
    await ping(first)
    assert (await sync_to_async(connection_status)())["rooms"] == {"downloads": 2}
    await first.disconnect()
    await second.disconnect()
    assert (await sync_to_async(connection_status)())["connections"] == 0


async def test_a_dead_process_is_swept_with_its_group_memberships():
    """Entries of a process whose heartbeat key expired are removed, and its sockets leave their groups."""
    async with GroupListener("downloads") as listener:
        client = raw_redis()
        dead = "deadhost-999-abcdef"
        entry = {
            "connection_id": "c1",
            "channel_name": listener.channel,
            "auth": "token",
            "rooms": ["downloads"],
            "groups": ["room.downloads"],
        }
        client.sadd(processes_key(), dead)
        client.hset(connections_key(dead), "c1", json.dumps(entry))  # no alive key: the heartbeat expired
        status = await sync_to_async(connection_status)()
        assert status["swept_processes"] == [dead]
        assert status["connections"] == 0
        assert not client.exists(connections_key(dead)) and not client.sismember(processes_key(), dead)
        layer = listener.layer
        members = await layer.connection(layer.consistent_hash("room.downloads")).zrange(
            layer._group_key("room.downloads"), 0, -1
        )
        assert listener.channel.encode() not in members


async def test_a_live_process_is_kept(login):
    client = raw_redis()
    other = "otherhost-1-aaaaaa"
    client.sadd(processes_key(), other)
    client.set(alive_key(other), "{}", ex=30)
    client.hset(connections_key(other), "x", json.dumps({"channel_name": "c!x", "auth": "token", "rooms": ["queue"]}))
    status = await sync_to_async(connection_status)()
    assert status["connections"] == 1 and status["rooms"] == {"queue": 1}
    assert status["swept_processes"] == []


def test_status_api_requires_login_and_reports(api_client, auth_client):
    response = api_client.get("/ws/status")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    response = auth_client.get("/ws/status")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["connections"] == 0 and body["processes"] == [] and body["rooms"] == {}


def test_status_is_documented(auth_client):
    schema = auth_client.get("/api/schema?format=json").json()
    assert "/ws/status" in schema["paths"]


# --- system events ------------------------------------------------------------------------------


async def test_disk_nearly_full_warns_once_per_cooldown(tmp_path):
    async with GroupListener("system") as listener:
        nearly_full = await sync_to_async(system.check_disk_space)(
            tmp_path / "not-yet-created", min_free_fraction=1.0, min_free_bytes=2**62
        )
        assert nearly_full is True
        frame = (await listener.receive())["frame"]
        assert frame["type"] == "system_warning" and frame["data"]["code"] == "disk_nearly_full"
        assert frame["data"]["details"]["free_bytes"] > 0
        again = await sync_to_async(system.check_disk_space)(tmp_path, min_free_fraction=1.0, min_free_bytes=2**62)
        assert again is True
        with pytest.raises(TimeoutError):
            await listener.receive(timeout=0.5)
        assert await sync_to_async(system.check_disk_space)(tmp_path, min_free_fraction=0.0, min_free_bytes=0) is False


async def test_worker_signals_and_site_blocking_and_scan_finished():
    async with GroupListener("system") as listener, GroupListener("library") as library:
        await sync_to_async(announce_worker_ready)(sender=SimpleNamespace(hostname="aniworld@nas-1"))
        frame = (await listener.receive())["frame"]
        assert (frame["type"], frame["data"]["code"]) == ("system_info", "worker_joined")
        assert frame["data"]["details"] == {"worker": "aniworld@nas-1"}
        await sync_to_async(announce_worker_shutdown)(sender="aniworld@nas-1")
        assert (await listener.receive())["frame"]["data"]["code"] == "worker_left"
        await sync_to_async(system.worker_lost)("aniworld@nas-2", "lease expired")
        frame = (await listener.receive())["frame"]
        assert frame["type"] == "system_error" and "lease expired" in frame["data"]["message"]

        assert await sync_to_async(system.site_blocking)("aniworld.to", "HTTP 403", 403) is True
        assert await sync_to_async(system.site_blocking)("aniworld.to", "HTTP 403", 403) is False  # cooldown
        assert (await listener.receive())["frame"]["data"]["details"] == {"site": "aniworld.to", "status_code": 403}

        await sync_to_async(system.scan_finished)({"series": 3, "missing_episodes": 7})
        for room in (listener, library):
            frame = (await room.receive())["frame"]
            assert frame["data"]["code"] == "scan_finished"
            assert frame["data"]["message"] == "Library scan finished: 3 series, 7 missing episodes."
