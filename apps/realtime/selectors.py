"""Reads for the realtime app: the cluster-wide connection picture behind ``GET /ws/status``."""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import Any

import redis
from django.conf import settings

from aniworld_site.redis_client import shared_redis
from apps.realtime.layer import channel_layer, run_sync
from apps.realtime.registry import alive_key, connections_key, processes_key, registry

logger = logging.getLogger("aniworld.realtime")


class RegistryUnavailable(Exception):
    pass


def connection_status() -> dict[str, Any]:
    """Connections and room memberships on every live web process; dead processes are swept away."""
    if not settings.REDIS_URL:
        records = {"local": [_record_dict(r) for r in registry.connections.values()]}
        return _summarise(records, stale=[])
    client = shared_redis()
    try:
        process_ids = sorted(p.decode() for p in client.smembers(processes_key()))
        alive_flags = client.mget([alive_key(p) for p in process_ids]) if process_ids else []
        records: dict[str, list[dict]] = {}
        stale: list[str] = []
        for proc, alive in zip(process_ids, alive_flags, strict=True):
            raw = client.hgetall(connections_key(proc))
            entries = [json.loads(value) for value in raw.values()]
            if alive is None:
                stale.append(proc)
                sweep_process(proc, entries, client)
            else:
                records[proc] = entries
    except (redis.RedisError, OSError) as error:
        raise RegistryUnavailable(str(error)) from error
    return _summarise(records, stale)


def _record_dict(record: Any) -> dict:
    return {"connection_id": record.connection_id, "auth": record.auth, "rooms": list(record.rooms)}


def _summarise(records: dict[str, list[dict]], stale: list[str]) -> dict[str, Any]:
    rooms: Counter[str] = Counter()
    processes = []
    total = 0
    for proc, entries in sorted(records.items()):
        proc_rooms: Counter[str] = Counter(room for entry in entries for room in entry.get("rooms", []))
        rooms.update(proc_rooms)
        total += len(entries)
        processes.append(
            {
                "process_id": proc,
                "connections": len(entries),
                "rooms": dict(sorted(proc_rooms.items())),
                "auth": dict(Counter(entry.get("auth", "unknown") for entry in entries)),
            }
        )
    return {
        "connections": total,
        "rooms": dict(sorted(rooms.items())),
        "processes": processes,
        "swept_processes": stale,
    }


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
