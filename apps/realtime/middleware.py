"""ASGI middleware in front of the realtime consumer: origin check, sockets per address, send-buffer probe."""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

from apps.accounts.services import client_address

logger = logging.getLogger("aniworld.realtime")

ORIGIN_MISSING = "aniworld.origin_missing"
PENDING_BYTES = "aniworld.pending_bytes"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def allowed_hosts() -> list[str]:
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        hosts = ["localhost", "127.0.0.1", "[::1]"]
    return hosts


def _origin_tuple(scheme: str, netloc: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) with the scheme's default port filled in; None for anything unparsable."""
    try:
        parsed = urlsplit(f"{scheme}://{netloc}")
        port = parsed.port
    except ValueError:
        return None
    if not parsed.hostname or scheme not in _DEFAULT_PORTS:
        return None
    return scheme, parsed.hostname, port or _DEFAULT_PORTS[scheme]


def _parsed_origin(origin: str) -> tuple[str, str, int] | None:
    scheme, separator, netloc = origin.partition("://")
    if not separator or "/" in netloc:
        return None
    return _origin_tuple(scheme.lower(), netloc)


class BrowserOriginValidator:
    """Refuse (HTTP 403) a handshake whose Origin is not the origin the socket was opened on.

    The Origin must equal scheme, host *and* port of the handshake itself (``http`` for
    ``ws``, ``https`` for ``wss``, the ``Host`` header, which must be in ALLOWED_HOSTS), or
    be listed in CSRF_TRUSTED_ORIGINS (a reverse proxy's public address) — the same rule
    Django's CSRF check applies to forms, so another service on the owner's machine
    (``http://127.0.0.1:9999``) cannot ride on the owner's cookie.

    Browsers always send Origin on WebSocket handshakes. A handshake without Origin comes
    from a non-browser client: it is let through but marked, and the consumer then ignores
    any session cookie and accepts only a token sent in the first frame.
    """

    def __init__(self, application: Callable) -> None:
        self.application = application

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> Any:
        headers = dict(scope.get("headers", []))
        if b"origin" not in headers:
            return await self.application({**scope, ORIGIN_MISSING: True}, receive, send)
        if self.origin_allowed(scope, headers):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)

    @staticmethod
    def origin_allowed(scope: dict, headers: dict[bytes, bytes]) -> bool:
        origin = _parsed_origin(headers[b"origin"].decode("latin-1"))
        host_header = headers.get(b"host", b"").decode("latin-1")
        if origin is None or not host_header:
            return False
        own = _origin_tuple("https" if scope.get("scheme") == "wss" else "http", host_header)
        if own is None or not validate_host(split_domain_port(host_header)[0], allowed_hosts()):
            return False
        trusted = {_parsed_origin(entry) for entry in settings.CSRF_TRUSTED_ORIGINS}
        return origin == own or origin in trusted


class ConnectionsPerAddressLimit:
    """Refuse (HTTP 403) a handshake from an address that already holds too many sockets here.

    At most ``settings.REALTIME_MAX_CONNECTIONS_PER_ADDRESS`` open sockets per client address
    (``X-Forwarded-For`` believed only from TRUSTED_PROXIES, as for HTTP) in this web process,
    counted before authentication, so one client cannot hold all of a process's sockets.
    """

    def __init__(self, application: Callable) -> None:
        self.application = application
        self.open_by_address: Counter[str] = Counter()

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> Any:
        headers = dict(scope.get("headers", []))
        remote = (scope.get("client") or ("", 0))[0] or ""
        address = client_address(remote, headers.get(b"x-forwarded-for", b"").decode("latin-1"))
        if self.open_by_address[address] >= settings.REALTIME_MAX_CONNECTIONS_PER_ADDRESS:
            logger.warning("realtime: refusing a socket from %s: too many open from that address", address)
            return await WebsocketDenier()(scope, receive, send)
        self.open_by_address[address] += 1
        try:
            return await self.application(scope, receive, send)
        finally:
            self.open_by_address[address] -= 1
            if not self.open_by_address[address]:
                del self.open_by_address[address]


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
