"""One room subscription per web process, fanned out to its sockets in memory.

Without this every socket is a member of its rooms' Channels groups, so an event to a room of
500 sockets is 500 messages in Redis, popped one by one by the process and dispatched one by one
(each dispatch also hopped to a thread to close database connections). Here the process's hub
channel is the only member of a room group: an event is one Redis message per process, and the hub
hands it to the room's sockets directly.

Progress frames are batched: download_progress events that arrive in the same event-loop turn go
to each socket as one ``download_progress_batch`` frame (``{"items": [<download_progress data>,
...]}``); a lone event still goes out as a plain ``download_progress`` frame.

Joining and leaving are set operations; a room whose last socket left keeps the hub's group
membership until the next refresh (``REFRESH_SECONDS``), which also renews the memberships before
channels_redis expires them. Disconnecting is therefore O(rooms of that socket), with no Redis call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from apps.realtime.events import EventType, make_frame
from apps.realtime.layer import channel_layer

if TYPE_CHECKING:
    from apps.realtime.consumers import RealtimeConsumer

logger = logging.getLogger("aniworld.realtime")

REFRESH_SECONDS = 600.0
RETRY_SECONDS = 1.0
BATCH_FRAME_TYPE = "download_progress_batch"


class RoomHub:
    """This process's room memberships (for the current event loop) and the fan-out to its sockets."""

    def __init__(self) -> None:
        self.members: dict[str, dict[RealtimeConsumer, None]] = {}  # group -> sockets, in join order
        self.channel: str | None = None
        self._joined: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task] = []
        self._batches: dict[RealtimeConsumer, dict[str, dict[str, Any]]] = {}
        self._flush_scheduled = False

    async def start(self) -> str:
        """The hub's channel name (group member for every room of this process); starts it once per loop."""
        loop = asyncio.get_running_loop()
        if self.channel is None or self._loop is not loop:
            layer = channel_layer()
            assert layer is not None
            self.members, self._joined, self._batches = {}, set(), {}
            self._loop = loop
            self.channel = await layer.new_channel()  # the prefix every local channel shares (one Redis key)
            self._tasks = [loop.create_task(self._listen(), name="realtime-hub")]
            self._tasks.append(loop.create_task(self._refresh_forever(), name="realtime-hub-refresh"))
        return self.channel

    async def join(self, consumer: RealtimeConsumer, group: str) -> None:
        channel = await self.start()
        self.members.setdefault(group, {})[consumer] = None
        if group not in self._joined:
            self._joined.add(group)
            layer = channel_layer()
            assert layer is not None
            await layer.group_add(group, channel)

    def leave(self, consumer: RealtimeConsumer, groups: Iterable[str]) -> None:
        for group in groups:
            members = self.members.get(group)
            if members is not None:
                members.pop(consumer, None)
        self._batches.pop(consumer, None)

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            with contextlib.suppress(Exception):
                await self.refresh()

    async def refresh(self) -> None:
        """Renew the memberships of rooms with sockets; give up those of rooms without."""
        layer = channel_layer()
        if layer is None or self.channel is None:
            return
        for group in list(self._joined):
            if self.members.get(group):
                await layer.group_add(group, self.channel)
            else:
                self._joined.discard(group)
                self.members.pop(group, None)
                await layer.group_discard(group, self.channel)

    async def _listen(self) -> None:
        layer = channel_layer()
        assert layer is not None and self.channel is not None
        while True:
            try:
                message = await layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Redis went away: keep trying, the sockets stay open
                logger.warning("realtime: the room hub could not receive: %s", error)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            await self.deliver(message)

    async def deliver(self, message: dict[str, Any]) -> None:
        """Hand one published event to every socket of its room (progress waits for this turn's batch)."""
        members = self.members.get(message.get("group", ""))
        if not members:
            return
        batched = message.get("event_type") == EventType.DOWNLOAD_PROGRESS and "data" in message
        for consumer in list(members):
            if not consumer.accepts(message):
                continue
            if batched:
                self._batches.setdefault(consumer, {})[message.get("coalesce") or message["event_id"]] = message
            else:
                await consumer.deliver(message["text"], message.get("coalesce"))
        if batched and not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self._flush()))

    async def _flush(self) -> None:
        self._flush_scheduled = False
        batches, self._batches = self._batches, {}
        texts: dict[tuple[str, ...], str] = {}  # sockets with the same events share one serialised frame
        for consumer, messages in batches.items():
            if len(messages) == 1:
                (message,) = messages.values()
                await consumer.deliver(message["text"], message.get("coalesce"))
                continue
            key = tuple(message["event_id"] for message in messages.values())
            if key not in texts:
                items = [message["data"] for message in messages.values()]
                texts[key] = json.dumps(make_frame(BATCH_FRAME_TYPE, {"items": items}))
            await consumer.deliver(texts[key], None)


hub = RoomHub()
