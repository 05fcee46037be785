"""The ``/ws/connect`` socket: authentication, rooms, ping, and a bounded per-connection outbox.

Protocol (docs/architecture.md, "Realtime protocol"); every frame is ``{"type", "data", "timestamp"}``:

- A browser with a logged-in session cookie gets ``connected`` at once. Any other
  client must send ``{"action": "auth", "token": "<JWT>"}`` as its first frame within
  a few seconds; it then gets ``connected``. Otherwise: an ``error`` frame and close 4401.
  Tokens in the URL are never read.
- ``{"action": "join"|"leave", "room": …}``, ``{"action": "ping"}`` → ``pong``.
  Actions are handled in order, so a ``pong`` after a ``join`` means the join is in effect.
- Bad JSON, an unknown action or room: an ``error`` frame; the socket stays open.
- The login session is re-checked every 30 s and on client actions; a logout closes
  the socket (4401), at once when ``disconnect_session`` is called.
- Frames wait in a bounded per-connection outbox while the client's socket is backed up;
  progress of one item replaces its older pending progress. A client whose outbox
  overflows is closed with 4008.
- Rooms are served by the process's hub (apps.realtime.hub): download_progress events of the
  same moment arrive as one ``download_progress_batch`` frame, ``{"items": [<progress data>, ...]}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import OrderedDict, deque
from itertools import count
from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from apps.realtime.authentication import SocketIdentity, identity_from_token, session_still_live
from apps.realtime.events import FIXED_ROOMS, ControlFrame, is_valid_room, make_frame, room_group, session_group
from apps.realtime.hub import hub
from apps.realtime.middleware import ORIGIN_MISSING, PENDING_BYTES
from apps.realtime.registry import ConnectionRecord, process_id, registry

logger = logging.getLogger("aniworld.realtime")

CLOSE_UNAUTHENTICATED = 4401
CLOSE_TOO_SLOW = 4008
MAX_INBOUND_FRAME_CHARS = 8192
MAX_ROOMS_PER_CONNECTION = 64
SENDER_POLL_SECONDS = 0.05
ACTION_RECHECK_MIN_SECONDS = 1.0
CLIENT_PING_SECONDS = 25
RECENT_EVENTS_REMEMBERED = 512
NO_DATABASE_MESSAGES = frozenset({"realtime.event", "realtime.force_logout", "websocket.disconnect"})


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


class Outbox:
    """Frames waiting for one socket, at most ``limit`` of them; keyed frames replace each other in place."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._frames: OrderedDict[str, str] = OrderedDict()
        self._serial = count()
        self._ready = asyncio.Event()
        self.coalesced = 0

    def __len__(self) -> int:
        return len(self._frames)

    def put(self, text: str, key: str | None = None) -> bool:
        """Queue a frame; False when the outbox is full (the client has fallen too far behind)."""
        if key is not None and key in self._frames:
            self._frames[key] = text
            self.coalesced += 1
            return True
        if len(self._frames) >= self.limit:
            return False
        self._frames[key if key is not None else f"#{next(self._serial)}"] = text
        self._ready.set()
        return True

    def pop(self) -> str:
        _, text = self._frames.popitem(last=False)
        if not self._frames:
            self._ready.clear()
        return text

    async def wait(self) -> None:
        await self._ready.wait()


class RealtimeConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.connection_id = uuid.uuid4().hex
        self.identity: SocketIdentity | None = None
        self.rooms: set[str] = set()
        self.closing = False
        self.cleaned_up = False
        self.last_auth_check = time.monotonic()
        self.outbox = Outbox(int(_setting("REALTIME_OUTBOX_LIMIT", 256)))
        self.high_water_bytes = int(_setting("REALTIME_SEND_BUFFER_BYTES", 256 * 1024))
        self.pending_bytes = self.scope.get(PENDING_BYTES)
        self.recent_event_ids: set[str] = set()
        self.recent_event_order: deque[str] = deque()
        self.tasks: list[asyncio.Task] = []
        await self.accept()
        self.tasks.append(asyncio.create_task(self._send_outbox()))
        user = self.scope.get("user")
        session = self.scope.get("session")
        from_browser = not self.scope.get(ORIGIN_MISSING)
        if from_browser and user is not None and user.is_authenticated and session and session.session_key:
            await self._authenticated(SocketIdentity(str(user.pk), session.session_key, "session"))
        else:
            self.tasks.append(asyncio.create_task(self._close_unless_authenticated()))

    # --- authentication -------------------------------------------------------------
    async def _authenticated(self, identity: SocketIdentity) -> None:
        self.identity = identity
        self.last_auth_check = time.monotonic()
        await self.channel_layer.group_add(session_group(identity.session_key), self.channel_name)
        await registry.add(self._record())
        self.tasks.append(asyncio.create_task(self._recheck_session_periodically()))
        self._queue(
            ControlFrame.CONNECTED,
            {
                "connection_id": self.connection_id,
                "auth": identity.kind,
                "process": process_id(),
                "rooms": [*sorted(FIXED_ROOMS), "series:<id>"],
                "ping_seconds": CLIENT_PING_SECONDS,
            },
        )

    async def _close_unless_authenticated(self) -> None:
        await asyncio.sleep(_setting("REALTIME_AUTH_TIMEOUT_SECONDS", 5))
        if self.identity is None:
            await self._close_with(
                CLOSE_UNAUTHENTICATED,
                "auth_timeout",
                'Not authenticated: log in, or send {"action": "auth", "token": "<JWT>"} as the first frame.',
            )

    async def _recheck_session_periodically(self) -> None:
        interval = _setting("REALTIME_SESSION_RECHECK_SECONDS", 30)
        while not self.closing:
            await asyncio.sleep(interval)
            await self._session_still_valid(force=True)

    async def _session_still_valid(self, force: bool = False) -> bool:
        assert self.identity is not None
        now = time.monotonic()
        if not force and now - self.last_auth_check < ACTION_RECHECK_MIN_SECONDS:
            return True
        self.last_auth_check = now
        if await session_still_live(self.identity.session_key, self.identity.user_id):
            return True
        await self._close_with(CLOSE_UNAUTHENTICATED, "logged_out", "The login session ended; log in again.")
        return False

    # --- client → server -----------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:
            return
        message, problem = self._parse(text_data)
        if self.identity is None:
            await self._first_frame(message, problem)
            return
        if problem:
            self._error(*problem)
            return
        if not await self._session_still_valid():
            return
        action = message.get("action")
        if action == "ping":
            self._queue(ControlFrame.PONG, {"id": message["id"]} if "id" in message else {})
        elif action in ("join", "leave"):
            await self._join_or_leave(action, message.get("room"))
        elif action == "auth":
            self._error("already_authenticated", "This connection is already authenticated.")
        else:
            self._error("unknown_action", "Unknown action; use join, leave or ping.", {"action": str(action)[:64]})

    def _parse(self, text_data: str | None) -> tuple[dict[str, Any], tuple[str, str] | None]:
        if text_data is None:
            return {}, ("text_only", "Send JSON text frames.")
        if len(text_data) > MAX_INBOUND_FRAME_CHARS:
            return {}, ("frame_too_large", f"Frames are limited to {MAX_INBOUND_FRAME_CHARS} characters.")
        try:
            message = json.loads(text_data)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser follows
            return {}, ("bad_json", "The frame is not valid JSON.")
        if not isinstance(message, dict):
            return {}, ("bad_json", 'A frame must be a JSON object like {"action": "ping"}.')
        return message, None

    async def _first_frame(self, message: dict[str, Any], problem: tuple[str, str] | None) -> None:
        token = message.get("token")
        if problem or message.get("action") != "auth" or not isinstance(token, str):
            await self._close_with(
                CLOSE_UNAUTHENTICATED,
                "auth_required",
                'Not authenticated: the first frame must be {"action": "auth", "token": "<JWT>"}.',
            )
            return
        identity = await identity_from_token(token)
        if identity is None:
            await self._close_with(CLOSE_UNAUTHENTICATED, "invalid_token", "The token is invalid, expired or revoked.")
            return
        if not self.closing:
            await self._authenticated(identity)

    async def _join_or_leave(self, action: str, room: object) -> None:
        if not is_valid_room(room):
            self._error(
                "unknown_room",
                "Unknown room; use downloads, queue, system, library or series:<id>.",
                {"room": str(room)[:64]},
            )
            return
        assert isinstance(room, str)
        if action == "join" and room not in self.rooms:
            if len(self.rooms) >= MAX_ROOMS_PER_CONNECTION:
                self._error("too_many_rooms", f"A connection can be in at most {MAX_ROOMS_PER_CONNECTION} rooms.")
                return
            await hub.join(self, room_group(room))
            self.rooms.add(room)
            await registry.update(self._record())
        elif action == "leave" and room in self.rooms:
            hub.leave(self, [room_group(room)])
            self.rooms.discard(room)
            await registry.update(self._record())

    # --- server → client -----------------------------------------------------------------
    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch without its hop to a thread to close database connections, for messages
        whose handlers never touch the database (code that does uses database_sync_to_async, which
        closes stale connections itself)."""
        if message.get("type") in NO_DATABASE_MESSAGES:
            await getattr(self, get_handler_name(message))(message)
        else:
            await super().dispatch(message)

    async def realtime_event(self, message: dict[str, Any]) -> None:
        """A published event sent to this socket's own channel (rooms arrive through the hub)."""
        if self.accepts(message):
            await self.deliver(message["text"], message.get("coalesce"))

    def accepts(self, message: dict[str, Any]) -> bool:
        """Whether an event should go out: authenticated, open, and not already delivered through another room."""
        if self.identity is None or self.closing:
            return False
        event_id = message.get("event_id")
        if event_id in self.recent_event_ids:
            return False
        self._remember_event(event_id)
        return True

    async def deliver(self, text: str, coalesce: str | None) -> None:
        """Send a frame now, or queue it behind the ones waiting; never raises (the hub calls it for many)."""
        try:
            if not self.outbox and not self._backed_up():  # the common case: straight out, no extra task hop
                await self.send(text_data=text)
            elif not self.outbox.put(text, coalesce):
                await self._drop_slow_client()
        except Exception:  # the socket went away under us; disconnect() cleans up
            logger.debug("realtime: could not deliver to %s", self.connection_id, exc_info=True)

    def _remember_event(self, event_id: str) -> None:
        """An event sent to several rooms of this socket arrives once per room; deliver it once."""
        self.recent_event_ids.add(event_id)
        self.recent_event_order.append(event_id)
        if len(self.recent_event_order) > RECENT_EVENTS_REMEMBERED:
            self.recent_event_ids.discard(self.recent_event_order.popleft())

    async def realtime_force_logout(self, message: dict[str, Any]) -> None:
        await self._close_with(CLOSE_UNAUTHENTICATED, "logged_out", "You were logged out.")

    def _queue(self, frame_type: ControlFrame, data: dict[str, Any]) -> None:
        if not self.outbox.put(json.dumps(make_frame(frame_type, data))):
            self.tasks.append(asyncio.create_task(self._drop_slow_client()))

    def _error(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        self._queue(ControlFrame.ERROR, {"code": code, "message": message, "details": details or {}})

    def _backed_up(self) -> bool:
        return self.pending_bytes is not None and self.pending_bytes() > self.high_water_bytes

    async def _send_outbox(self) -> None:
        while not self.closing:
            await self.outbox.wait()
            if self._backed_up():
                await asyncio.sleep(SENDER_POLL_SECONDS)
                continue
            if self.outbox and not self.closing:
                try:
                    await self.send(text_data=self.outbox.pop())
                except Exception:  # the socket went away under us; disconnect() cleans up
                    return

    async def _drop_slow_client(self) -> None:
        logger.info(
            "realtime: closing slow client %s: %d frames waiting (%d coalesced)",
            self.connection_id,
            len(self.outbox),
            self.outbox.coalesced,
        )
        await self._close_with(
            CLOSE_TOO_SLOW, "too_slow", "The connection fell too far behind; reconnect and re-fetch the state."
        )

    # --- closing -------------------------------------------------------------------------
    async def _close_with(self, code: int, error_code: str, message: str) -> None:
        """Say why in an ``error`` frame (servers may drop a close reason), then close."""
        if self.closing:
            return
        self.closing = True
        frame = make_frame(ControlFrame.ERROR, {"code": error_code, "message": message, "details": {}})
        with contextlib.suppress(Exception):
            await self.send(text_data=json.dumps(frame))
        with contextlib.suppress(Exception):
            await self.close(code=code, reason=error_code)
        await self._clean_up()

    async def disconnect(self, code: int) -> None:
        self.closing = True
        await self._clean_up()

    async def _clean_up(self) -> None:
        if self.cleaned_up:
            return
        self.cleaned_up = True
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()
        hub.leave(self, [room_group(room) for room in self.rooms])
        if self.identity is not None:
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(session_group(self.identity.session_key), self.channel_name)
        await registry.remove(self.connection_id)

    def _record(self) -> ConnectionRecord:
        assert self.identity is not None
        groups = [room_group(room) for room in sorted(self.rooms)]
        return ConnectionRecord(
            connection_id=self.connection_id,
            channel_name=self.channel_name,
            auth=self.identity.kind,
            rooms=sorted(self.rooms),
            groups=[*groups, session_group(self.identity.session_key)],
            room_channel=hub.channel or "",
        )
