"""Request-body limit in front of Django: oversized bodies get a 413 before anything reads them.

Under daphne the web server (:mod:`aniworld_site.webserver`) already refuses them while
reading; this ASGI middleware holds the same line for any other ASGI server and counts
the bytes of bodies sent without ``Content-Length``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings

from aniworld_site.errors import error_body

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def too_large_body(limit: int) -> bytes:
    """The 413 response body, in the API's error shape."""
    return json.dumps(
        error_body(
            "request_too_large",
            f"The request body is larger than the limit of {limit} bytes.",
            {"limit_bytes": limit},
        )
    ).encode()


def declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class _BodyTooLarge(Exception):
    pass


class RequestBodyLimit:
    """ASGI middleware: refuse HTTP bodies larger than ``settings.MAX_REQUEST_BODY_BYTES`` with 413."""

    def __init__(self, application: Callable) -> None:
        self.application = application

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.application(scope, receive, send)
            return
        limit = settings.MAX_REQUEST_BODY_BYTES
        length = declared_length(scope.get("headers", []))
        if length is not None and length > limit:
            await self._refuse(send, limit)
            return
        received = 0
        response_started = False

        async def counting_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        async def watching_send(message: dict[str, Any]) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.application(scope, counting_receive, watching_send)
        except _BodyTooLarge:
            if not response_started:
                await self._refuse(send, limit)

    @staticmethod
    async def _refuse(send: Send, limit: int) -> None:
        body = too_large_body(limit)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
