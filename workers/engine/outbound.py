"""The outbound policy (:mod:`apps.catalog.outbound`) on every request yt-dlp makes for a download.

A hoster controls the media URL, its redirects, the HLS playlists and every
segment and key URL in them. yt-dlp is therefore given exactly one request
handler, :class:`PolicyUrllibRH` (yt-dlp's urllib handler, narrowed):

* only http/https (no ``file``, ``data`` or ``ftp``);
* every request URL and every redirect target is checked before it is sent;
* the connection itself checks the address it connects to, so a name that
  resolves differently at connect time cannot lead inside.

The allow-list comes in as a value (:attr:`EngineOptions.allowed_hosts`);
nothing here imports Django. yt-dlp has no public hook for the connection or
the redirect step, so this builds on its urllib handler's parts
(``yt_dlp.networking._urllib``); tests/queue/test_engine_outbound.py proves
each check against real servers.
"""

from __future__ import annotations

import functools
import http.client
import urllib.request
from typing import Any
from urllib.parse import urljoin

from yt_dlp import YoutubeDL
from yt_dlp.networking._helper import _socket_connect, create_connection
from yt_dlp.networking._urllib import (
    HTTPHandler,
    ProxyHandler,
    RedirectHandler,
    UrllibRH,
    _create_http_connection,
)
from yt_dlp.networking.exceptions import RequestError, TransportError

from apps.catalog.outbound import OutboundPolicy
from apps.catalog.types import CatalogError, HosterRefused


class RefusedByPolicy(RequestError):
    """A request, redirect hop or connection the outbound policy refused (never sent)."""


def _refuse(error: CatalogError) -> RequestError:
    """Refusals stay refusals; a name that does not resolve is a network problem (retried)."""
    if isinstance(error, HosterRefused):
        return RefusedByPolicy(str(error))
    return TransportError(str(error))


def _connect(policy: OutboundPolicy, address: tuple[str, int], timeout: Any = None, source_address: Any = None) -> Any:
    host, port = address

    def checked_connect(ip_addr: tuple, timeout: Any, source_address: Any) -> Any:
        try:
            policy.check_connected(host, port, str(ip_addr[4][0]))
        except CatalogError as error:
            raise _refuse(error) from error
        return _socket_connect(ip_addr, timeout, source_address)

    return create_connection(address, timeout, source_address, _create_socket_func=checked_connect)


class _PolicyHTTPHandler(HTTPHandler):
    """yt-dlp's HTTP handler whose connections check the address they connect to."""

    def __init__(self, policy: OutboundPolicy, **kwargs: Any):
        super().__init__(**kwargs)
        self.policy = policy

    def _connection(self, conn_class: type, proxied: bool, *args: Any, **kwargs: Any) -> http.client.HTTPConnection:
        connection = _create_http_connection(conn_class, self._source_address, *args, **kwargs)
        if not proxied:  # through the owner's proxy the connection goes to the proxy; the URL was checked
            connection._create_connection = functools.partial(_connect, self.policy)
        return connection

    @staticmethod
    def _proxied(req: urllib.request.Request) -> bool:
        return req.has_proxy() or bool(getattr(req, "_tunnel_host", None)) or "Ytdl-socks-proxy" in req.headers

    def http_open(self, req: urllib.request.Request) -> Any:
        proxied = self._proxied(req)
        conn_class = self._make_conn_class(http.client.HTTPConnection, req)
        return self.do_open(functools.partial(self._connection, conn_class, proxied), req)

    def https_open(self, req: urllib.request.Request) -> Any:
        proxied = self._proxied(req)
        conn_class = self._make_conn_class(http.client.HTTPSConnection, req)
        return self.do_open(functools.partial(self._connection, conn_class, proxied), req, context=self._context)


class _PolicyRedirectHandler(RedirectHandler):
    """Checks every redirect target (any scheme, before urllib's own scheme rule) before it is followed."""

    def __init__(self, policy: OutboundPolicy):
        super().__init__()
        self.policy = policy

    def http_error_302(self, req: Any, fp: Any, code: int, msg: str, headers: Any) -> Any:
        location = headers.get("location") or headers.get("uri")
        if location:
            try:
                self.policy.check_url(urljoin(req.full_url, location))
            except CatalogError as error:
                fp.close()
                raise _refuse(error) from error
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


class PolicyUrllibRH(UrllibRH):
    """yt-dlp's urllib handler limited to http/https, with every URL, hop and connection checked."""

    _SUPPORTED_URL_SCHEMES = ("http", "https")

    def __init__(self, *, policy: OutboundPolicy, **kwargs: Any):
        kwargs["enable_file_urls"] = False
        super().__init__(**kwargs)
        self.policy = policy

    def _create_instance(self, proxies: Any, cookiejar: Any, legacy_ssl_support: Any = None) -> Any:
        opener = urllib.request.OpenerDirector()
        for handler in (
            ProxyHandler(proxies),
            _PolicyHTTPHandler(
                self.policy,
                debuglevel=int(bool(self.verbose)),
                context=self._make_sslcontext(legacy_ssl_support=legacy_ssl_support),
                source_address=self.source_address,
            ),
            urllib.request.HTTPCookieProcessor(cookiejar),
            urllib.request.UnknownHandler(),
            urllib.request.HTTPDefaultErrorHandler(),
            urllib.request.HTTPErrorProcessor(),
            _PolicyRedirectHandler(self.policy),
        ):
            opener.add_handler(handler)
        opener.addheaders = []  # as yt-dlp's own: no urllib default User-Agent
        return opener

    def _send(self, request: Any) -> Any:
        try:
            self.policy.check_url(request.url)
        except CatalogError as error:
            raise _refuse(error) from error
        return super()._send(request)


def confine(ydl: YoutubeDL, policy: OutboundPolicy) -> None:
    """Make ``policy`` the only way ``ydl`` reaches the network."""
    if "_request_director" in ydl.__dict__:
        ydl._request_director.close()
    ydl.__dict__["_request_director"] = ydl.build_request_director([functools.partial(PolicyUrllibRH, policy=policy)])
