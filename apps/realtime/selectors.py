"""Reads for the realtime app: the cluster-wide connection picture behind ``GET /ws/status``."""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import Any

import redis
from django.conf import settings

from aniworld_site.redis_client import shared_redis
from apps.realtime.registry import alive_key, connections_key, processes_key, registry, sweep_process

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
