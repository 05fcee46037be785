"""daphne with Aniworld's input limits; what `make run` and the tests start as the web process.

    python -m aniworld_site.webserver -b 127.0.0.1 -p 8000 aniworld_site.asgi:application

Same command line as ``python -m daphne``. Two limits that daphne has no option for are
enforced in the server itself, before a byte reaches authentication or a parser:

- HTTP request bodies larger than ``settings.MAX_REQUEST_BODY_BYTES`` get a 413 in the
  API's error shape as soon as ``Content-Length`` is read, or as soon as a chunked
  body passes the limit; the connection is then closed. Twisted would otherwise
  spool the whole body (to a temporary file above 100 KB) before the application
  even sees the request.
- WebSocket frames and messages larger than ``settings.REALTIME_MAX_MESSAGE_BYTES``
  are refused by autobahn when the frame header announces them (close 1009), so an
  oversized frame is never buffered.

The access log keeps each request's path and replaces its query string: queries can carry
secrets (a token pasted into a URL, a search the owner would rather keep).
"""

from __future__ import annotations

import io
import re

from daphne import cli
from daphne.access import AccessLogGenerator
from daphne.cli import CommandLineInterface
from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.server import Server
from django.conf import settings

from aniworld_site.limits import too_large_body


class LimitedRequest(WebRequest):
    """A daphne request that stops reading a body larger than the limit and answers 413."""

    refused = False
    body_bytes = 0

    def gotLength(self, length: int | None) -> None:
        if length is not None and length > settings.MAX_REQUEST_BODY_BYTES:
            self.refuse_body()
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        if self.refused:
            return
        self.body_bytes += len(data)
        if self.body_bytes > settings.MAX_REQUEST_BODY_BYTES:
            self.refuse_body()
            return
        super().handleContentChunk(data)

    def refuse_body(self) -> None:
        """Answer 413 and hang up; nothing more of this body is read or stored."""
        self.refused = True
        self.content = io.BytesIO()
        self.requestHeaders.removeHeader(b"Expect")  # no "100 Continue" after the refusal
        body = too_large_body(settings.MAX_REQUEST_BODY_BYTES)
        head = (
            b"HTTP/1.1 413 Content Too Large\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: %d\r\n"
            b"Connection: close\r\n\r\n" % len(body)
        )
        self.channel.transport.write(head + body)
        self.channel.transport.loseConnection()

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        if not self.refused:  # a refused body never reaches the application
            super().requestReceived(command, path, version)


class LimitedHTTPFactory(HTTPFactory):
    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = LimitedRequest
        return protocol


class LimitedServer(Server):
    """daphne's Server with the limited factories.

    daphne builds its factories inside ``run()``; they are replaced here as they are
    assigned, which keeps the rest of ``run()`` daphne's own.
    """

    @property
    def http_factory(self) -> HTTPFactory:
        return self._http_factory

    @http_factory.setter
    def http_factory(self, factory: HTTPFactory) -> None:
        self._http_factory = LimitedHTTPFactory(self)

    @property
    def ws_factory(self):
        return self._ws_factory

    @ws_factory.setter
    def ws_factory(self, factory) -> None:
        factory.setProtocolOptions(
            maxFramePayloadSize=settings.REALTIME_MAX_MESSAGE_BYTES,
            maxMessagePayloadSize=settings.REALTIME_MAX_MESSAGE_BYTES,
        )
        self._ws_factory = factory


class LimitedCommandLineInterface(CommandLineInterface):
    server_class = LimitedServer


_QUERY = re.compile(r"\?\S*")


def redact_query(request_line: str) -> str:
    return _QUERY.sub("?[redacted]", request_line)


class RedactedAccessLog(AccessLogGenerator):
    def write_entry(self, host, date, request, status=None, length=None, ident=None, user=None) -> None:
        super().write_entry(host, date, redact_query(request), status, length, ident, user)


if __name__ == "__main__":
    cli.AccessLogGenerator = RedactedAccessLog  # daphne's CLI builds its access log from this name
    LimitedCommandLineInterface.entrypoint()
