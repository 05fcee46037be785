"""Helpers for the realtime unit tests: logged-in sessions and WebSocket communicators."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client

from apps.realtime.events import room_group
from apps.realtime.middleware import PENDING_BYTES
from apps.realtime.routing import websocket_application

ORIGIN = "http://localhost:8000"
HOST = "localhost:8000"


@dataclass
class Login:
    session_key: str
    token: str


@pytest.fixture
def login(owner, owner_password) -> Callable[[], Awaitable[Login]]:
    """``await login()``: log the owner in (a new session each call): the browser's session key and the token."""

    def do_login() -> Login:
        client = Client()
        response = client.post("/api/auth/login", {"password": owner_password}, content_type="application/json")
        assert response.status_code == 200, response.content
        return Login(session_key=client.cookies["sessionid"].value, token=response.json()["access_token"])

    return sync_to_async(do_login)


@pytest.fixture(autouse=True)
async def _close_worker_thread_connections():
    """The ORM calls of sync_to_async run in a helper thread; its DB connection must not outlive the test."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture(autouse=True)
def _fast_realtime_timeouts(settings):
    settings.REALTIME_AUTH_TIMEOUT_SECONDS = 0.6


def communicator(
    *,
    session_key: str | None = None,
    origin: str | None = ORIGIN,
    path: str = "/ws/connect",
    pending_bytes: Callable[[], int] | None = None,
    host: str = HOST,
    client: str = "127.0.0.1",
) -> WebsocketCommunicator:
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if session_key is not None:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    extra_scope: dict = {"client": [client, 40000]}
    if pending_bytes is not None:
        extra_scope[PENDING_BYTES] = pending_bytes

    async def app(scope, receive, send):
        return await websocket_application({**scope, **extra_scope}, receive, send)

    return WebsocketCommunicator(app, path, headers=headers)


async def connect_ok(comm: WebsocketCommunicator) -> dict:
    connected, _ = await comm.connect()
    assert connected
    return comm


async def next_frame(comm: WebsocketCommunicator, timeout: float = 3) -> dict:
    frame = await comm.receive_json_from(timeout=timeout)
    assert set(frame) == {"type", "data", "timestamp"}, frame
    return frame


async def expect_close(comm: WebsocketCommunicator, timeout: float = 3) -> tuple[list[dict], int]:
    """Frames sent before the close, and the close code."""
    frames = []
    while True:
        output = await comm.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return frames, output.get("code")
        frames.append(json.loads(output["text"]))


async def action(comm: WebsocketCommunicator, **message) -> None:
    await comm.send_json_to(message)


async def ping(comm: WebsocketCommunicator) -> None:
    """Round trip: every action sent before it has been handled once the pong arrives."""
    await action(comm, action="ping", id="sync")
    frame = await next_frame(comm)
    assert frame["type"] == "pong" and frame["data"] == {"id": "sync"}, frame


class GroupListener:
    """A bare channel in a room's group: what a socket in that room would be handed."""

    def __init__(self, room: str) -> None:
        self.group = room_group(room)
        self.layer = get_channel_layer()
        self.channel = ""

    async def __aenter__(self) -> GroupListener:
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.layer.group_discard(self.group, self.channel)

    async def receive(self, timeout: float = 3) -> dict:
        """The group message, with its frame decoded as ``message["frame"]``."""
        message = await asyncio.wait_for(self.layer.receive(self.channel), timeout)
        return {**message, "frame": json.loads(message["text"])}
