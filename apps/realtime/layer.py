"""Talking to the Channels layer from synchronous code (Celery tasks, views, management commands).

``async_to_sync(layer.group_send)`` from a thread without an event loop makes a new
thread, a new loop and a new Redis connection for every call, and it refuses to run
in a thread whose loop is running. Instead each process keeps one private event loop
in a daemon thread: calls are submitted to it, reuse its Redis connections and are
bounded by a timeout, so a slow or unreachable Redis never holds the caller longer.
The loop is re-created after a fork (Celery's prefork pool).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, InMemoryChannelLayer, get_channel_layer

T = TypeVar("T")


class _LayerLoop:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            alive = self._thread is not None and self._thread.is_alive()
            if self._loop is None or self._pid != os.getpid() or not alive:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="realtime-layer", daemon=True)
                thread.start()
                self._loop, self._thread, self._pid = loop, thread, os.getpid()
            return self._loop


_layer_loop = _LayerLoop()


def channel_layer() -> BaseChannelLayer | None:
    return get_channel_layer()


def run_sync(factory: Callable[[], Awaitable[T]], timeout: float) -> T:
    """Run ``factory()`` against the channel layer and wait at most ``timeout`` seconds.

    Raises what the coroutine raises, or TimeoutError. The in-memory layer (no Redis
    configured) only works inside the caller's own loop, so it goes through async_to_sync.
    """

    async def bounded() -> T:
        return await asyncio.wait_for(factory(), timeout)

    if isinstance(channel_layer(), InMemoryChannelLayer):
        return async_to_sync(bounded)()
    future = asyncio.run_coroutine_threadsafe(bounded(), _layer_loop.loop())
    try:
        return future.result(timeout + 1.0)
    except TimeoutError:
        future.cancel()
        raise
