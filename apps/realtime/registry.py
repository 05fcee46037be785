"""Which sockets are open on which web process, kept in Redis for ``GET /ws/status``.

Each web process owns two keys: a hash ``…:proc:<id>:connections`` (connection id →
channel, auth kind, rooms) and ``…:proc:<id>:alive`` with a short TTL that a heartbeat
renews while the process holds connections; the set ``…:processes`` lists the ids. The
heartbeat rewrites the whole hash from the process's memory, so the Redis picture heals
itself after a Redis restart. A reader that finds a process whose ``alive`` key expired
(the process was killed or its host lost) deletes its entries and removes its sockets
from their Channels groups.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import logging
import os
import socket
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis
import redis.asyncio as aioredis
from django.conf import settings

from aniworld_site.redis_client import shared_redis
from apps.realtime.layer import channel_layer, run_sync

logger = logging.getLogger("aniworld.realtime")

HEARTBEAT_SECONDS = 5.0
_process_ids: dict[int, str] = {}


def heartbeat_seconds() -> float:
    return float(getattr(settings, "REALTIME_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS))


def heartbeat_ttl_seconds() -> int:
    """A process that missed three heartbeats is considered dead."""
    return max(2, round(heartbeat_seconds() * 3))


def process_id() -> str:
    pid = os.getpid()
    if pid not in _process_ids:
        _process_ids[pid] = f"{socket.gethostname()}-{pid}-{uuid.uuid4().hex[:6]}"
    return _process_ids[pid]


def _prefix() -> str:
    return f"{settings.KEY_PREFIX}:realtime"


def processes_key() -> str:
    return f"{_prefix()}:processes"


def connections_key(proc: str) -> str:
    return f"{_prefix()}:proc:{proc}:connections"


def alive_key(proc: str) -> str:
    return f"{_prefix()}:proc:{proc}:alive"


@dataclass
class ConnectionRecord:
    connection_id: str
    channel_name: str
    auth: str
    rooms: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)  # every Channels group the socket is in
    room_channel: str = ""  # the process hub's channel, the member of the room groups (apps.realtime.hub)
    connected_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_json(self) -> str:
        return json.dumps(asdict(self))


class ProcessRegistry:
    """This web process's connections: in memory (the truth) and mirrored into Redis."""

    def __init__(self) -> None:
        self.connections: dict[str, ConnectionRecord] = {}
        self._client: aioredis.Redis | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._heartbeat: asyncio.Task | None = None
        self._exit_hook_pid: int | None = None

    def _redis(self) -> aioredis.Redis | None:
        if not settings.REDIS_URL:
            return None
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = aioredis.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30
            )
            self._client_loop = loop
        return self._client

    async def add(self, record: ConnectionRecord) -> None:
        self.connections[record.connection_id] = record
        self._ensure_heartbeat()
        self._clean_up_at_exit()
        await self._mirror(record.connection_id)

    async def update(self, record: ConnectionRecord) -> None:
        if record.connection_id in self.connections:
            self.connections[record.connection_id] = record
            await self._mirror(record.connection_id)

    async def remove(self, connection_id: str) -> None:
        if self.connections.pop(connection_id, None) is None:
            return
        if self.connections:
            await self._mirror(connection_id)
            return
        if self._heartbeat is not None and self._heartbeat is not asyncio.current_task():
            self._heartbeat.cancel()
        self._heartbeat = None
        await self._forget_process()

    def _clean_up_at_exit(self) -> None:
        """A web process stopped cleanly (SIGTERM) forgets its sockets at once instead of after the TTL."""
        if self._exit_hook_pid != os.getpid():
            self._exit_hook_pid = os.getpid()
            atexit.register(self._forget_at_exit)

    def _forget_at_exit(self) -> None:
        if not settings.REDIS_URL or self._exit_hook_pid != os.getpid():
            return
        entries = [json.loads(record.to_json()) for record in self.connections.values()]
        with contextlib.suppress(Exception):  # logging may already be shut down; the TTL is the fallback
            sweep_process(process_id(), entries, announce=False)

    def _ensure_heartbeat(self) -> None:
        loop = asyncio.get_running_loop()
        task = self._heartbeat
        if task is None or task.done() or task.get_loop() is not loop:
            self._heartbeat = loop.create_task(self._beat_forever(), name="realtime-registry-heartbeat")

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(heartbeat_seconds())
            await self.rewrite()

    async def _mirror(self, connection_id: str) -> None:
        client = self._redis()
        if client is None:
            return
        proc = process_id()
        record = self.connections.get(connection_id)
        try:
            async with client.pipeline(transaction=True) as pipe:
                if record is None:
                    pipe.hdel(connections_key(proc), connection_id)
                else:
                    pipe.hset(connections_key(proc), connection_id, record.to_json())
                self._queue_alive(pipe, proc)
                await pipe.execute()
        except (redis.RedisError, OSError) as error:
            logger.warning("realtime: could not update the connection registry: %s", error)

    async def rewrite(self) -> None:
        """Heartbeat: renew the TTL and rewrite this process's hash from memory."""
        client = self._redis()
        if client is None:
            return
        proc = process_id()
        try:
            async with client.pipeline(transaction=True) as pipe:
                pipe.delete(connections_key(proc))
                if self.connections:
                    pipe.hset(
                        connections_key(proc),
                        mapping={cid: record.to_json() for cid, record in self.connections.items()},
                    )
                self._queue_alive(pipe, proc)
                await pipe.execute()
        except (redis.RedisError, OSError) as error:
            logger.warning("realtime: registry heartbeat failed: %s", error)

    def _queue_alive(self, pipe: Any, proc: str) -> None:
        ttl = heartbeat_ttl_seconds()
        info = {"host": socket.gethostname(), "pid": os.getpid()}
        pipe.set(alive_key(proc), json.dumps(info), ex=ttl)
        pipe.expire(connections_key(proc), ttl * 4)
        pipe.sadd(processes_key(), proc)

    async def _forget_process(self) -> None:
        client = self._redis()
        if client is None:
            return
        proc = process_id()
        with contextlib.suppress(redis.RedisError, OSError):
            async with client.pipeline(transaction=True) as pipe:
                pipe.delete(connections_key(proc), alive_key(proc))
                pipe.srem(processes_key(), proc)
                await pipe.execute()


registry = ProcessRegistry()


def sweep_process(proc: str, entries: list[dict], client: redis.Redis | None = None, announce: bool = True) -> None:
    """Forget a web process (dead, or exiting), including its sockets' Channels group memberships."""
    client = client or shared_redis()
    with client.pipeline(transaction=True) as pipe:
        pipe.delete(connections_key(proc), alive_key(proc))
        pipe.srem(processes_key(), proc)
        pipe.execute()
    memberships = {
        (
            group,
            entry.get("room_channel") or entry["channel_name"] if group.startswith("room.") else entry["channel_name"],
        )
        for entry in entries
        for group in entry.get("groups", [])
    }
    layer = channel_layer()
    if not memberships or layer is None:
        return

    async def discard_all() -> None:
        for group, channel in memberships:
            await layer.group_discard(group, channel)

    try:
        run_sync(discard_all, timeout=5)
    except Exception as error:
        if announce:
            logger.warning("realtime: could not remove process %s from its groups: %s", proc, error)
    if announce:
        logger.info("realtime: swept web process %s (%d connection(s))", proc, len(entries))
