"""Input limits: request bodies (413 before anything reads them), database ids and JSON depth (400).

Body limit: under daphne the web server (:mod:`aniworld_site.webserver`) already refuses them while
reading; this ASGI middleware holds the same line for any other ASGI server and counts
the bytes of bodies sent without ``Content-Length``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

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


# --- ids ---------------------------------------------------------------------------------
# Database ids are signed 64-bit integers; a bigger number can name nothing, and handing it
# to the database is an error (SQLite: OverflowError), so it is refused as a bad request.
MAX_DATABASE_ID = 2**63 - 1


def database_id_field(**kwargs: Any) -> serializers.IntegerField:
    """A serializer field for a database id: 1 … 2**63-1 (the schema says so too)."""
    return serializers.IntegerField(min_value=1, max_value=MAX_DATABASE_ID, **kwargs)


class PathIdsInRangeMiddleware:
    """Refuse (400) a URL whose integer path parameter is beyond any database id.

    Django's ``int`` converter takes any number of digits; this keeps such numbers away
    from every view at once (API and pages alike) instead of each view checking.
    """

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict):
        too_big = {
            name: value
            for name, value in view_kwargs.items()
            if isinstance(value, int) and not isinstance(value, bool) and value > MAX_DATABASE_ID
        }
        if not too_big:
            return None
        message = f"Ids are whole numbers up to {MAX_DATABASE_ID}."
        if request.path.startswith("/api/"):
            return JsonResponse(error_body("invalid", message, {name: [message] for name in too_big}), status=400)
        return HttpResponseBadRequest(message)


# --- JSON nesting ----------------------------------------------------------------------------
class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, except that JSON nested deeper than Python's parser can follow is a 400.

    ``json.loads`` raises RecursionError (not ValueError) for ``[[[[…`` thousands deep, which DRF
    would let through as a 500.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
