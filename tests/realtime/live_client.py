"""A test WebSocket client for the live stack (websockets' sync client), with a reconnect loop."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.live import OWNER_PASSWORD, LiveStack


def browser_session(live: LiveStack, web: int = 0) -> str:
    """Log in like the login page does; the session cookie a browser would hold."""
    response = httpx.post(live.url("/api/auth/login", web), json={"password": OWNER_PASSWORD}, timeout=30)
    assert response.status_code == 200, response.text
    return response.cookies["sessionid"]


def raw_connect(url: str, **kwargs) -> ClientConnection:
    return connect(url, proxy=None, compression=None, legacy=True, **kwargs)


def origin_of(live: LiveStack, web: int = 0) -> str:
    return live.url("", web).rstrip("/")


class Closed(Exception):
    def __init__(self, code: int | None, frames: list[dict]):
        super().__init__(f"closed with {code}")
        self.code = code
        self.frames = frames


@dataclass
class LiveClient:
    """One socket: either a browser (session cookie + Origin) or an API client (token in the first frame)."""

    live: LiveStack
    web: int = 0
    session: str | None = None
    token: str | None = None
    rooms: list[str] = field(default_factory=list)
    ws: ClientConnection | None = None
    connection_id: str | None = None
    received: list[dict] = field(default_factory=list)

    def open(self, timeout: float = 10) -> dict:
        headers = {"Cookie": f"sessionid={self.session}"} if self.session else {}
        self.ws = connect(
            self.live.ws_url(web=self.web),
            origin=origin_of(self.live, self.web) if self.session else None,
            additional_headers=headers,
            proxy=None,
            open_timeout=timeout,
            compression=None,
            legacy=True,
        )
        if self.token:
            self.send(action="auth", token=self.token)
        frame = self.next(timeout)
        assert frame["type"] == "connected", frame
        self.connection_id = frame["data"]["connection_id"]
        for room in self.rooms:
            self.send(action="join", room=room)
        self.sync()
        return frame

    def open_with_retries(self, deadline_seconds: float = 60) -> int:
        """Reconnect with exponential backoff and jitter, as the dashboard does; returns the attempts used."""
        deadline = time.monotonic() + deadline_seconds
        delay, attempts = 0.2, 0
        while True:
            attempts += 1
            try:
                self.open(timeout=5)
                return attempts
            except (OSError, InvalidStatus, ConnectionClosed, TimeoutError, AssertionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(delay / 2 + random.random() * delay / 2)
                delay = min(delay * 2, 3.0)

    def send(self, **message) -> None:
        assert self.ws is not None
        self.ws.send(json.dumps(message))

    def next(self, timeout: float = 10) -> dict:
        assert self.ws is not None
        try:
            frame = json.loads(self.ws.recv(timeout=timeout))
        except ConnectionClosed as closed:
            raise Closed(closed.rcvd.code if closed.rcvd else None, []) from closed
        assert set(frame) == {"type", "data", "timestamp"}, frame
        self.received.append(frame)
        return frame

    def sync(self, timeout: float = 10) -> None:
        """Ping and wait for the pong; event frames arriving meanwhile are kept in ``received``."""
        token = f"sync-{random.random()}"
        self.send(action="ping", id=token)
        self.wait_for(lambda f: f["type"] == "pong" and f["data"].get("id") == token, timeout)

    def wait_for(self, predicate: Callable[[dict], bool], timeout: float = 15) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching frame within {timeout}s; got {self.received[-10:]}")
            frame = self.next(remaining)
            if predicate(frame):
                return frame

    def wait_closed(self, timeout: float = 15) -> Closed:
        """Read until the server closes; the frames before the close and its code."""
        frames: list[dict] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                frames.append(self.next(deadline - time.monotonic()))
            except Closed as closed:
                closed.frames = frames
                return closed
        raise TimeoutError(f"still open after {timeout}s; got {frames[-5:]}")

    def events(self, event_type: str) -> list[dict]:
        return [frame for frame in self.received if frame["type"] == event_type]

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
