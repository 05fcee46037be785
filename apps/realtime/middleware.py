"""ASGI middleware in front of the realtime consumer: origin check and a send-buffer probe."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from channels.security.websocket import OriginValidator
from django.conf import settings

ORIGIN_MISSING = "aniworld.origin_missing"
PENDING_BYTES = "aniworld.pending_bytes"


def allowed_hosts() -> list[str]:
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        hosts = ["localhost", "127.0.0.1", "[::1]"]
    return hosts


class BrowserOriginValidator(OriginValidator):
    """Refuse (HTTP 403) a handshake whose Origin header names a host outside ALLOWED_HOSTS.

    Browsers always send Origin on WebSocket handshakes, so that is what stops a foreign
    page from riding on the owner's cookie. A handshake without Origin comes from a
    non-browser client: it is let through but marked, and the consumer then ignores any
    session cookie and accepts only a token sent in the first frame.
    """

    def __init__(self, application: Callable) -> None:
        super().__init__(application, allowed_hosts())

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> Any:
        if not any(name == b"origin" for name, _ in scope.get("headers", [])):
            return await self.application({**scope, ORIGIN_MISSING: True}, receive, send)
        return await super().__call__(scope, receive, send)


def _buffered_bytes(transport: Any) -> int:
    """Bytes written to a Twisted transport that the peer has not yet taken (0 if unknown)."""
    for _ in range(4):  # TLS and other wrappers keep the real socket transport underneath
        if transport is None:
            return 0
        if hasattr(transport, "dataBuffer"):
            return len(transport.dataBuffer) - getattr(transport, "offset", 0) + getattr(transport, "_tempDataLen", 0)
        transport = getattr(transport, "transport", None)
    return 0


class SendBufferProbe:
    """Tell the consumer how much of what it sent is still waiting in the server's socket buffer.

    The ASGI ``send`` never blocks under daphne — a client that stops reading makes
    Twisted's write buffer grow without limit. Daphne hands the application
    ``functools.partial(server.handle_reply, protocol)``; from that protocol's transport
    the consumer can see its backlog and hold frames back (coalescing them) instead. Under
    another server the probe is simply absent.
    """

    def __init__(self, application: Callable) -> None:
        self.application = application

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> Any:
        protocol = send.args[0] if isinstance(send, functools.partial) and send.args else None
        if protocol is not None and hasattr(protocol, "transport") and hasattr(protocol, "sendMessage"):
            scope = {**scope, PENDING_BYTES: lambda: _buffered_bytes(protocol.transport)}
        return await self.application(scope, receive, send)
