"""The one HTTP client for catalog sites and hosters.

Browser-like headers, keep-alive and cookies per *bucket* (a site such as
``"aniworld"`` or a hoster such as ``"hoster:VOE"``), a polite request rate per
bucket (token bucket, rate from :func:`apps.catalog.conf.requests_per_second`),
retries with exponential backoff on 429/5xx/connection errors, a size limit on
bodies, and block detection: a 403, a DDoS-Guard page or a captcha
(Cloudflare Turnstile, hCaptcha) raises :class:`SiteBlocking` with the time to
retry, so the queue waits instead of burning retries.

Two transports share that logic: curl_cffi impersonating a real Chrome
(TLS and HTTP/2 fingerprint; DDoS-Guard answers plain Python clients with 403),
used when it is installed and :func:`apps.catalog.conf.impersonation` names a
browser (the default), and httpx otherwise (``ANIWORLD_CATALOG_IMPERSONATE=off``).

Every request and every redirect hop goes through the outbound policy
(:mod:`apps.catalog.outbound`): http/https only, public addresses only (or the
allow-list), redirects never followed by the transport itself but hop by hop
here. The connection is tied to the checked addresses: curl_cffi gets them
pinned (``CURLOPT_RESOLVE``) and only speaks http/https
(``CURLOPT_PROTOCOLS_STR``/``REDIR_PROTOCOLS_STR``); httpx connects through a
network backend that resolves and checks the address it connects to. A
response without an HTTP status (curl reports 0) is a transport failure.

Rate buckets are process-local: each worker process is polite on its own.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import re
import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from apps.catalog import conf
from apps.catalog.outbound import (
    CURL_PROTOCOLS,
    MAX_REDIRECTS,
    IPAddress,
    OutboundPolicy,
    curl_resolve_entry,
    parse_address,
    split_host,
)
from apps.catalog.safety import current_policy

try:
    from curl_cffi import CurlOpt
    from curl_cffi import requests as curl_requests
except ImportError:  # optional: without it the client uses httpx
    CurlOpt = None
    curl_requests = None
from apps.catalog.types import CatalogError, SiteBlocking, SiteUnavailable

ACCEPT_LANGUAGE = "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7"
BROWSER_HEADERS = {
    "User-Agent": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36"
    ),
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    "Accept-Language": ACCEPT_LANGUAGE,
    "Accept-Encoding": "gzip, deflate",
    "Upgrade-Insecure-Requests": "1",
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Site": "none",
}
AJAX_HEADERS = {
    "Accept": "application/json, text/javascript, */*; q=0.01",
    "X-Requested-With": "XMLHttpRequest",
    "Sec-Fetch-Dest": "empty",
    "Sec-Fetch-Mode": "cors",
    "Sec-Fetch-Site": "same-origin",
}

DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
HTTPX_LIMITS = httpx.Limits(max_connections=8, max_keepalive_connections=4, keepalive_expiry=30)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524})

# Markers of challenge pages. Kept specific so an ordinary page that merely loads a
# captcha widget for its login form is not mistaken for a block.
CAPTCHA_MARKERS = ("cf-turnstile", "challenges.cloudflare.com/turnstile", "_cf_chl_opt", "hcaptcha.com/1/api.js")
DDOS_GUARD_MARKERS = ("<title>ddos-guard", "ddos-guard/js-challenge", "check.ddos-guard.net", "ddos-guard.net/")
# Where we expect a redirect (catalog /redirect/<id>), any captcha widget means "blocked".
STRICT_CAPTCHA_MARKERS = ("g-recaptcha", "recaptcha/api.js", "h-captcha", "captcha")


@dataclass(frozen=True)
class Page:
    """A fetched response, fully read (bodies are small: pages, JSON, covers)."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes
    set_cookies: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        charset = "utf-8"
        content_type = self.headers.get("content-type", "")
        if "charset=" in content_type:
            charset = content_type.split("charset=", 1)[1].split(";", 1)[0].strip() or "utf-8"
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8", errors="replace"))

    @property
    def location(self) -> str | None:
        """Absolute target of a redirect response, if any."""
        target = self.headers.get("location")
        return urljoin(self.url, target) if target else None

    @property
    def is_redirect(self) -> bool:
        return self.status in (301, 302, 303, 307, 308) and bool(self.headers.get("location"))


# DDoS-Guard's 200 challenge page says nothing but its title and its challenge script.
DDOS_GUARD_TITLE = re.compile(r"<title[^>]*>\s*ddos-guard\s*</title>")
DDOS_GUARD_SCRIPT = re.compile(r"""<script[^>]+src=["'][^"']*(?:/\.well-known/ddos-guard/|ddos-guard\.net/)""")


def block_reason(page: Page, *, strict: bool = False) -> str | None:
    """Why ``page`` looks like the site blocking us, or None."""
    server = page.headers.get("server", "").lower()
    ddos_guard_cookie = any(name.startswith("__ddg") for name in page.set_cookies)
    content_type = page.headers.get("content-type", "").lower()
    looks_textual = not content_type or "html" in content_type or "text" in content_type
    body = page.body[:300_000].decode("utf-8", errors="replace").lower() if looks_textual else ""
    if page.status in (403, 503) and ("ddos-guard" in server or ddos_guard_cookie or "ddos-guard" in body):
        return f"DDoS-Guard answered HTTP {page.status}"
    if any(marker in body for marker in CAPTCHA_MARKERS):
        return "a captcha page (Cloudflare Turnstile / hCaptcha)"
    if (
        any(marker in body for marker in DDOS_GUARD_MARKERS)
        or DDOS_GUARD_TITLE.search(body)
        or DDOS_GUARD_SCRIPT.search(body)
    ):
        return "a DDoS-Guard challenge page"
    if page.status == 403:
        return "HTTP 403 Forbidden"
    if strict and any(marker in body for marker in STRICT_CAPTCHA_MARKERS):
        return "a captcha page"
    return None


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


class TokenBucket:
    """Allows ``rate`` requests a second on average with bursts of ``capacity``; callers wait their turn."""

    def __init__(
        self,
        rate: float,
        capacity: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._tokens = capacity
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping until it is available; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
        if wait > 0:
            self._sleep(wait)
        return wait


class TransportFailure(Exception):
    """The request did not get an HTTP answer (connection refused, timeout, reset)."""


def _read_limited(chunks: Any, url: str, max_bytes: int) -> bytes:
    body: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise SiteUnavailable(f"{url} sent more than {max_bytes} bytes; refusing to read further")
        body.append(chunk)
    return b"".join(body)


def _cookie_names(set_cookie_headers: list[str]) -> tuple[str, ...]:
    return tuple(cookie.split("=", 1)[0].strip() for cookie in set_cookie_headers if "=" in cookie)


PolicySource = Callable[[], OutboundPolicy]


def _through_proxy(url: str, host: str) -> bool:
    """True when the environment sends this request through a proxy (http_proxy/https_proxy/all_proxy)."""
    proxies = urllib.request.getproxies()
    scheme = urlsplit(url).scheme
    return bool(proxies.get(scheme) or proxies.get("all")) and not urllib.request.proxy_bypass(host)


def _require_status(status: int, url: str) -> None:
    if status < 100:
        raise TransportFailure(f"no HTTP answer from {url} (status {status})")


class _Session:
    def send(
        self,
        method: str,
        url: str,
        data: Any,
        headers: dict[str, str] | None,
        max_bytes: int,
        addresses: list[IPAddress],
    ) -> Page:
        """One request without following redirects; ``addresses`` are the checked ones for the URL's host."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _PolicyBackend(httpcore.SyncBackend):
    """Resolves the host itself and connects only to addresses the outbound policy allows."""

    def __init__(self, policy: PolicySource):
        self.policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        policy = self.policy()
        if policy.host_allow_listed(host, port):
            return super().connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = [str(info[4][0]) for info in infos]
        for address in addresses:
            policy.check_connected(host, port, address)
        last_error: Exception | None = None
        for address in dict.fromkeys(addresses):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last_error = exc
        raise last_error or httpcore.ConnectError(f"cannot connect to {host}:{port}")


def _policy_transport(policy: PolicySource) -> httpx.HTTPTransport:
    """httpx's transport on a connection pool whose network backend applies the outbound policy.

    httpx has no public hook for the network backend, so the pool it builds is replaced by one
    with the same limits; the test suite (tests/catalog/test_outbound.py) proves the check runs.
    """
    transport = httpx.HTTPTransport(limits=HTTPX_LIMITS)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=HTTPX_LIMITS.max_connections,
        max_keepalive_connections=HTTPX_LIMITS.max_keepalive_connections,
        keepalive_expiry=HTTPX_LIMITS.keepalive_expiry,
        network_backend=_PolicyBackend(policy),
    )
    return transport


class _HttpxSession(_Session):
    def __init__(self, timeout: httpx.Timeout, transport: httpx.BaseTransport | None, policy: PolicySource):
        self.client = httpx.Client(
            headers=BROWSER_HEADERS,
            timeout=timeout,
            follow_redirects=False,
            transport=transport or _policy_transport(policy),
            limits=HTTPX_LIMITS,
        )

    def send(
        self,
        method: str,
        url: str,
        data: Any,
        headers: dict[str, str] | None,
        max_bytes: int,
        addresses: list[IPAddress],
    ) -> Page:
        try:
            request = self.client.build_request(method, url, data=data, headers=headers)
            response = self.client.send(request, stream=True)
            try:
                _require_status(response.status_code, url)
                body = _read_limited(response.iter_bytes(), url, max_bytes)
            finally:
                response.close()
        except httpx.TransportError as exc:
            raise TransportFailure(f"{type(exc).__name__}: {exc}") from exc
        cookies = _cookie_names(response.headers.get_list("set-cookie"))
        return Page(str(response.url), response.status_code, response.headers, body, cookies)

    def close(self) -> None:
        self.client.close()


class _CurlSession(_Session):
    """curl_cffi impersonating a browser; its handle is not thread-safe, so requests take turns."""

    # libcurl itself speaks only http/https, also on a redirect it is never asked to follow.
    BASE_OPTIONS: dict[Any, Any] = (
        {CurlOpt.PROTOCOLS_STR: CURL_PROTOCOLS, CurlOpt.REDIR_PROTOCOLS_STR: CURL_PROTOCOLS, CurlOpt.FOLLOWLOCATION: 0}
        if CurlOpt is not None
        else {}
    )

    def __init__(self, target: str, timeout: httpx.Timeout, policy: PolicySource):
        self.session = curl_requests.Session(
            impersonate=target, headers={"Accept-Language": ACCEPT_LANGUAGE}, curl_options=dict(self.BASE_OPTIONS)
        )
        self.timeout = (timeout.connect or 10.0, timeout.read or 20.0)
        self.policy = policy
        self.lock = threading.Lock()

    def send(
        self,
        method: str,
        url: str,
        data: Any,
        headers: dict[str, str] | None,
        max_bytes: int,
        addresses: list[IPAddress],
    ) -> Page:
        _scheme, host, port = split_host(url)
        options = dict(self.BASE_OPTIONS)
        if addresses and parse_address(host) is None:
            options[CurlOpt.RESOLVE] = [curl_resolve_entry(host, port, addresses)]  # connect only where we checked
        with self.lock:
            self.session.curl_options = options
            try:
                response = self.session.request(
                    method, url, data=data, headers=headers, allow_redirects=False, stream=True, timeout=self.timeout
                )
                try:
                    _require_status(response.status_code, url)
                    if not _through_proxy(url, host):  # through the owner's proxy, curl connected to the proxy
                        self.policy().check_connected(host, port, response.primary_ip)
                    body = _read_limited(response.iter_content(), url, max_bytes)
                finally:
                    response.close()
            except curl_requests.exceptions.ImpersonateError as exc:
                raise CatalogError(
                    f"{exc}: set ANIWORLD_CATALOG_IMPERSONATE to a browser curl_cffi knows (e.g. chrome) or to off"
                ) from exc
            except curl_requests.exceptions.RequestException as exc:
                raise TransportFailure(f"{type(exc).__name__}: {exc}") from exc
        header_list = list(response.headers.multi_items())
        cookies = _cookie_names([value for name, value in header_list if name.lower() == "set-cookie"])
        return Page(str(response.url), response.status_code, httpx.Headers(header_list), body, cookies)

    def close(self) -> None:
        self.session.close()


@dataclass
class RetryPolicy:
    attempts: int = 4
    base_delay: float | None = None  # None: conf.retry_base_delay()
    max_delay: float = 60.0

    def delay(self, attempt: int) -> float:
        base = self.base_delay if self.base_delay is not None else conf.retry_base_delay()
        return min(self.max_delay, base * (2**attempt) * (1 + random.random() / 4))  # noqa: S311 (jitter)


Guard = Callable[[str], None]


@dataclass
class CatalogHttpClient:
    """Thread-safe; one instance per process is enough (see :func:`get_client`)."""

    rate: Callable[[str], float] = conf.requests_per_second
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    block_cooldown: Callable[[], float] = conf.block_cooldown_seconds
    max_bytes: int = DEFAULT_MAX_BYTES
    sleep: Callable[[float], None] = time.sleep
    transport: httpx.BaseTransport | None = None  # given: always httpx (tests with a mock transport)
    impersonate: str | None = "auto"  # "auto": conf.impersonation(); None: httpx; e.g. "chrome": curl_cffi
    policy: PolicySource = current_policy  # the outbound policy, asked on every request

    def __post_init__(self) -> None:
        self._sessions: dict[str, _Session] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    # -- plumbing ------------------------------------------------------------
    def session(self, bucket: str) -> _Session:
        """The keep-alive connections and cookie jar of one site or hoster."""
        with self._lock:
            session = self._sessions.get(bucket)
            if session is None:
                target = conf.impersonation() if self.impersonate == "auto" else self.impersonate
                if self.transport is None and target and curl_requests is not None:
                    session = _CurlSession(target, self.timeout, self.policy)
                else:
                    session = _HttpxSession(self.timeout, self.transport, self.policy)
                self._sessions[bucket] = session
            return session

    def _wait_turn(self, bucket: str) -> None:
        rate = self.rate(bucket)
        with self._lock:
            limiter = self._buckets.get(bucket)
            if limiter is None:
                limiter = self._buckets[bucket] = TokenBucket(rate, sleep=self.sleep)
            limiter.rate = rate
        limiter.acquire()

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
            self._buckets.clear()
        for client in sessions:
            client.close()

    def _send_once(
        self,
        bucket: str,
        method: str,
        url: str,
        data: Any,
        headers: dict[str, str] | None,
        addresses: list[IPAddress],
    ) -> Page:
        return self.session(bucket).send(method, url, data, headers, self.max_bytes, addresses)

    # -- the API -------------------------------------------------------------
    def fetch(
        self,
        url: str,
        *,
        bucket: str,
        method: str = "GET",
        data: Any = None,
        headers: dict[str, str] | None = None,
        follow_redirects: bool = True,
        guard: Guard | None = None,
        detect_blocking: bool = True,
        strict_blocking: bool = False,
        label: str | None = None,
    ) -> Page:
        """Fetch with rate limit and retries; redirects are followed hop by hop.

        Every hop is checked by ``guard`` (a caller's extra rule, e.g. a hoster's domains), then by the
        outbound policy.
        Raises HosterRefused (the policy or ``guard`` refused a hop; nothing was sent to it),
        SiteBlocking (block detected, or still 429 after retries), SiteUnavailable
        (connection errors / 5xx after retries), and whatever ``guard`` raises.
        """
        label = label or bucket
        current_url, current_method, current_data = url, method, data
        for _hop in range(MAX_REDIRECTS + 1):
            if guard is not None:
                guard(current_url)
            addresses = self.policy().check_url(current_url)
            page = self._fetch_with_retries(
                current_url,
                bucket,
                current_method,
                current_data,
                headers,
                detect_blocking,
                strict_blocking,
                label,
                addresses,
            )
            if not (follow_redirects and page.is_redirect):
                return page
            current_url = page.location or current_url
            if page.status in (301, 302, 303):
                current_method, current_data = "GET", None
        raise SiteUnavailable(f"{label}: more than {MAX_REDIRECTS} redirects starting at {url}")

    def _fetch_with_retries(
        self,
        url: str,
        bucket: str,
        method: str,
        data: Any,
        headers: dict[str, str] | None,
        detect_blocking: bool,
        strict_blocking: bool,
        label: str,
        addresses: list[IPAddress],
    ) -> Page:
        attempts = max(1, self.retry.attempts)
        for attempt in range(attempts):
            last_attempt = attempt == attempts - 1
            self._wait_turn(bucket)
            try:
                page = self._send_once(bucket, method, url, data, headers, addresses)
            except TransportFailure as exc:
                if last_attempt:
                    raise SiteUnavailable(
                        f"{label}: {url} could not be reached ({type(exc).__name__}: {exc}) after {attempts} attempts"
                    ) from exc
                self.sleep(self.retry.delay(attempt))
                continue
            now = datetime.now(UTC)
            if detect_blocking:
                reason = block_reason(page, strict=strict_blocking)
                if reason:
                    retry_at = parse_retry_after(page.headers.get("retry-after"), now) or now + timedelta(
                        seconds=self.block_cooldown()
                    )
                    raise SiteBlocking(
                        f"{label} is blocking us ({reason}) at {url}; retrying after {retry_at:%H:%M} UTC",
                        retry_at,
                    )
            if page.status not in RETRY_STATUSES:
                return page
            retry_at = parse_retry_after(page.headers.get("retry-after"), now)
            if last_attempt:
                if page.status == 429 and detect_blocking:
                    retry_at = retry_at or now + timedelta(seconds=self.block_cooldown())
                    raise SiteBlocking(
                        f"{label} keeps answering 429 Too Many Requests at {url}; retrying after {retry_at:%H:%M} UTC",
                        retry_at,
                    )
                raise SiteUnavailable(f"{label}: {url} answered HTTP {page.status} {attempts} times; try again later")
            delay = self.retry.delay(attempt)
            if retry_at is not None:
                delay = min(self.retry.max_delay, max(delay, (retry_at - now).total_seconds()))
            self.sleep(delay)
        raise CatalogError(f"{label}: no attempt made for {url}")  # unreachable: attempts >= 1


_client: CatalogHttpClient | None = None
_client_lock = threading.Lock()


_client_pid: int | None = None


def get_client() -> CatalogHttpClient:
    """The process-wide client (its sessions keep cookies and connections between calls).

    A forked child (Celery prefork) gets its own: connections and curl handles are never shared across processes.
    """
    global _client, _client_pid
    with _client_lock:
        if _client is None or _client_pid != os.getpid():
            _client, _client_pid = CatalogHttpClient(), os.getpid()
        return _client


def reset_client() -> None:
    """Drop cookies, connections and rate state (tests; after the owner changes catalog settings)."""
    global _client
    with _client_lock:
        client, _client = _client, None
    if client is not None:
        client.close()


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
