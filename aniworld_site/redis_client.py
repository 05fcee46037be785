"""One plain Redis client per process for the code that talks to Redis directly (not through the cache)."""

from __future__ import annotations

import os

import redis
from django.conf import settings

_clients: dict[tuple[int, str], redis.Redis] = {}


def shared_redis() -> redis.Redis:
    """The process's client for ``settings.REDIS_URL`` (a new one after a fork: connections are not shared)."""
    key = (os.getpid(), settings.REDIS_URL or "")
    if key not in _clients:
        _clients[key] = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=3)
    return _clients[key]
