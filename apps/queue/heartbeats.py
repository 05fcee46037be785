"""Worker heartbeats, kept in Redis: each Celery worker writes its record every few seconds.

A record (JSON) lives at ``<prefix>:workers:heartbeat:<name>`` and expires after
three beats; the index ``<prefix>:workers`` (a sorted set: name → time of its
last beat) lets a reader fetch every record in two round trips, without a SCAN.
A worker that stops cleanly deletes its record; one that dies simply expires.
Each node writes its own clock into the index only to prune names gone for an
hour, so clock skew between hosts never hides a live worker.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from django.conf import settings

from aniworld_site.redis_client import shared_redis

INDEX_RETENTION_SECONDS = 3600


def index_key() -> str:
    return f"{settings.KEY_PREFIX}:workers"


def record_key(name: str) -> str:
    return f"{settings.KEY_PREFIX}:workers:heartbeat:{name}"


def interval_seconds() -> float:
    return float(settings.WORKER_HEARTBEAT_SECONDS)


def ttl_seconds() -> int:
    """A worker counts as live for three beats: one late beat never makes it vanish."""
    return math.ceil(3 * interval_seconds())


def publish(record: dict[str, Any]) -> None:
    name = record["name"]
    now = time.time()
    pipe = shared_redis().pipeline(transaction=False)
    pipe.set(record_key(name), json.dumps(record), ex=ttl_seconds())
    pipe.zadd(index_key(), {name: now})
    pipe.zremrangebyscore(index_key(), "-inf", now - INDEX_RETENTION_SECONDS)
    pipe.execute()


def forget(name: str) -> None:
    pipe = shared_redis().pipeline(transaction=False)
    pipe.delete(record_key(name))
    pipe.zrem(index_key(), name)
    pipe.execute()


def read_all() -> list[dict[str, Any]]:
    """Every live worker's last record (raises redis errors: the caller decides what a Redis outage means)."""
    if not settings.REDIS_URL:
        return []  # no Redis, no broker: no worker can run
    client = shared_redis()
    names = [name.decode() for name in client.zrange(index_key(), 0, -1)]
    if not names:
        return []
    records = []
    for raw in client.mget([record_key(name) for name in names]):
        if raw is None:
            continue
        try:
            records.append(json.loads(raw))
        except ValueError:
            continue
    return records
