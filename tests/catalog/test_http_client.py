"""The catalog HTTP client against the fake site: rate, retries, backoff, cookies, block detection."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from aniworld_site.stack import free_port
from apps.catalog.http import CatalogHttpClient, Page, RetryPolicy, TokenBucket, block_reason, parse_retry_after
from apps.catalog.types import SiteBlocking, SiteUnavailable
from tests.fakesite.server import render


def UNLIMITED(bucket: str) -> float:
    return 1e9


@pytest.fixture(params=["chrome", None], ids=["curl_cffi-chrome", "httpx"])
def impersonate(request) -> str | None:
    """Every client test runs on both transports."""
    return request.param


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_token_bucket_spaces_requests_at_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(rate=2.0, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(5)]
    assert waits[0] == 0
    assert waits[1:] == pytest.approx([0.5, 0.5, 0.5, 0.5])
    clock.now += 10  # idle time refills only up to the burst capacity
    assert bucket.acquire() == 0
    assert bucket.acquire() == pytest.approx(0.5)


def test_requests_per_site_are_rate_limited(fake_catalog, monkeypatch, impersonate):
    monkeypatch.setenv("ANIWORLD_CATALOG_REQUESTS_PER_SECOND", "5")
    client = CatalogHttpClient(impersonate=impersonate)
    url = f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade"
    started = time.monotonic()
    for _ in range(6):
        assert client.fetch(url, bucket="aniworld").status == 200
    assert time.monotonic() - started >= 0.9  # 1 immediate + 5 at 0.2 s
    started = time.monotonic()
    client.fetch(f"{fake_catalog.sto_url}/serie/stream/harbor-lights", bucket="sto")
    assert time.monotonic() - started < 0.2  # another site has its own bucket
    client.close()


def test_5xx_is_retried_with_exponential_backoff_then_succeeds(fake_catalog, impersonate):
    slept: list[float] = []
    client = CatalogHttpClient(
        rate=UNLIMITED, retry=RetryPolicy(attempts=4, base_delay=0.5), sleep=slept.append, impersonate=impersonate
    )
    fake_catalog.set_scenario(fail_times=3, fail_status=503, fail_prefix="/aw/")
    page = client.fetch(f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade", bucket="aniworld")
    assert page.status == 200
    assert fake_catalog.stats()["requests"]["/aw/anime/stream/moonlit-blade"] == 4
    # base * 2**attempt plus up to 25 % jitter; the fake site's "Retry-After: 0" does not shorten it
    assert len(slept) == 3
    for attempt, delay in enumerate(slept):
        assert 0.5 * 2**attempt <= delay <= 0.5 * 2**attempt * 1.25


def test_5xx_after_all_attempts_is_site_unavailable(fake_catalog, impersonate):
    client = CatalogHttpClient(retry=RetryPolicy(attempts=2, base_delay=0.01), impersonate=impersonate)
    fake_catalog.set_scenario(fail_times=5, fail_status=502, fail_prefix="/aw/")
    with pytest.raises(SiteUnavailable, match="HTTP 502 2 times"):
        client.fetch(f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade", bucket="aniworld")


def test_429_after_all_attempts_is_blocking_with_retry_time(fake_catalog, impersonate):
    client = CatalogHttpClient(
        retry=RetryPolicy(attempts=2, base_delay=0.01), block_cooldown=lambda: 600, impersonate=impersonate
    )
    fake_catalog.set_scenario(fail_times=5, fail_status=429, fail_prefix="/aw/")
    before = datetime.now(UTC)
    with pytest.raises(SiteBlocking) as caught:
        client.fetch(f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade", bucket="aniworld", label="aniworld.to")
    assert "429" in str(caught.value) and "aniworld.to" in str(caught.value)
    # Retry-After: 0 from the server is honoured as "now"
    assert before - timedelta(seconds=1) <= caught.value.retry_at <= datetime.now(UTC) + timedelta(seconds=601)


def test_connection_errors_are_retried_then_reported(unused_port, impersonate, monkeypatch):
    monkeypatch.setenv("ANIWORLD_CATALOG_ALLOWED_HOSTS", f"127.0.0.1:{unused_port}")
    slept: list[float] = []
    client = CatalogHttpClient(
        rate=UNLIMITED, retry=RetryPolicy(attempts=3, base_delay=0.01), sleep=slept.append, impersonate=impersonate
    )
    with pytest.raises(SiteUnavailable, match="could not be reached"):
        client.fetch(f"http://127.0.0.1:{unused_port}/x", bucket="aniworld")
    assert len(slept) == 2


@pytest.fixture
def unused_port() -> int:
    return free_port()


def test_ddos_guard_403_raises_site_blocking(fake_catalog, impersonate):
    client = CatalogHttpClient(block_cooldown=lambda: 1800, impersonate=impersonate)
    fake_catalog.set_scenario(block_prefix="/aw/")
    with pytest.raises(SiteBlocking) as caught:
        client.fetch(f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade", bucket="aniworld", label="aniworld.to")
    assert "DDoS-Guard" in str(caught.value)
    assert caught.value.retry_at > datetime.now(UTC) + timedelta(minutes=29)
    assert fake_catalog.stats()["requests"]["/aw/anime/stream/moonlit-blade"] == 1  # no retry burned


def test_ddos_guard_200_challenge_raises_site_blocking(fake_catalog, impersonate):
    fake_catalog.set_scenario(challenge_prefix="/aw/")
    with pytest.raises(SiteBlocking, match="DDoS-Guard challenge"):
        CatalogHttpClient(impersonate=impersonate).fetch(
            f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade", bucket="aniworld"
        )
    assert fake_catalog.stats()["requests"]["/aw/anime/stream/moonlit-blade"] == 1


def test_captcha_page_raises_site_blocking(fake_catalog, impersonate):
    fake_catalog.set_scenario(captcha_prefix="/aw/")
    with pytest.raises(SiteBlocking, match="captcha"):
        CatalogHttpClient(impersonate=impersonate).fetch(
            f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade", bucket="aniworld"
        )


def test_cookies_are_kept_per_site(fake_catalog, impersonate):
    client = CatalogHttpClient(impersonate=impersonate)
    first = f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade"
    client.fetch(first, bucket="aniworld")
    client.fetch(first, bucket="aniworld")
    client.fetch(f"{fake_catalog.sto_url}/serie/stream/harbor-lights", bucket="sto")
    with_cookie = fake_catalog.stats()["requests_with_cookie"]
    assert with_cookie.get("/aw/anime/stream/moonlit-blade") == 1  # the second request sent the first's cookie
    assert "/sto/serie/stream/harbor-lights" not in with_cookie  # the other site's jar is separate


def test_browser_like_headers_are_sent(fake_catalog, monkeypatch):
    monkeypatch.setenv("ANIWORLD_CATALOG_ALLOWED_HOSTS", "aniworld.to")  # no DNS needed for the mock transport
    seen: dict[str, str] = {}

    def capture(request: httpx.Request) -> httpx.Response:
        seen.update(request.headers)
        return httpx.Response(200, text="ok")

    CatalogHttpClient(transport=httpx.MockTransport(capture)).fetch("https://aniworld.to/", bucket="aniworld")
    assert "Chrome/" in seen["user-agent"] and seen["accept-language"].startswith("de-DE")
    assert "text/html" in seen["accept"]


def test_bodies_over_the_limit_are_refused(fake_catalog, impersonate):
    client = CatalogHttpClient(max_bytes=1000, impersonate=impersonate)
    with pytest.raises(SiteUnavailable, match="more than 1000 bytes"):
        client.fetch(f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade", bucket="aniworld")


def _page(status: int, body: str, headers: dict[str, str] | None = None, cookies: tuple[str, ...] = ()) -> Page:
    return Page(
        "https://aniworld.to/x", status, httpx.Headers(headers or {"content-type": "text/html"}), body.encode(), cookies
    )


def test_block_reason_recognises_blocks_and_leaves_normal_pages_alone():
    assert block_reason(_page(403, render("ddos_guard.html"))) == "DDoS-Guard answered HTTP 403"
    assert block_reason(_page(403, "x", {"server": "ddos-guard"})) == "DDoS-Guard answered HTTP 403"
    assert block_reason(_page(403, "x", cookies=("__ddg1_",))) == "DDoS-Guard answered HTTP 403"
    assert "captcha" in block_reason(_page(200, render("captcha.html")))
    assert block_reason(_page(403, "<h1>Forbidden</h1>")) == "HTTP 403 Forbidden"
    assert block_reason(_page(200, "<p>all good</p>"), strict=True) is None
    widget = '<div class="g-recaptcha"></div>'
    assert block_reason(_page(200, widget)) is None  # a login form widget on a normal page
    assert block_reason(_page(200, widget), strict=True) == "a captcha page"  # where a redirect was expected
    assert block_reason(_page(200, "<p>ok</p>", cookies=("__ddg1_",))) is None
    challenge = render("ddos_guard_challenge.html")
    assert block_reason(_page(200, challenge)) == "a DDoS-Guard challenge page"
    title_only = "<html><head><title>\n DDoS-Guard \n</title></head><body></body></html>"
    assert block_reason(_page(200, title_only)) == "a DDoS-Guard challenge page"
    script_only = '<html><body><script src="/.well-known/ddos-guard/check?context=free_splash"></script></body></html>'
    assert block_reason(_page(200, script_only)) == "a DDoS-Guard challenge page"
    footer = "<title>Moonlit Blade | AniWorld</title><footer>protected by DDoS-Guard</footer>"
    assert block_reason(_page(200, footer)) is None  # a normal page that names the service


def test_parse_retry_after():
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == now + timedelta(seconds=120)
    assert parse_retry_after("Wed, 01 Jan 2025 13:00:00 GMT", now) == datetime(2025, 1, 1, 13, 0, tzinfo=UTC)
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_impersonation_sends_a_real_browser_fingerprint_by_default(fake_catalog, monkeypatch):
    from apps.catalog import http

    monkeypatch.delenv("ANIWORLD_CATALOG_IMPERSONATE", raising=False)
    client = CatalogHttpClient()
    client.fetch(f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade", bucket="aniworld")
    assert isinstance(client.session("aniworld"), http._CurlSession)
    [agent] = fake_catalog.stats()["user_agents"]
    assert "Chrome/" in agent and "python" not in agent.lower()
    monkeypatch.setenv("ANIWORLD_CATALOG_IMPERSONATE", "off")
    assert isinstance(CatalogHttpClient().session("aniworld"), http._HttpxSession)


def test_unknown_impersonation_target_says_what_to_do(fake_catalog):
    from apps.catalog.types import CatalogError

    client = CatalogHttpClient(impersonate="netscape4")
    with pytest.raises(CatalogError, match="ANIWORLD_CATALOG_IMPERSONATE"):
        client.fetch(f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade", bucket="aniworld")


def test_a_forked_process_gets_its_own_client(monkeypatch):
    from apps.catalog import http

    http.reset_client()
    parent = http.get_client()
    assert http.get_client() is parent
    monkeypatch.setattr(http.os, "getpid", lambda: -1)  # as seen from a prefork child
    child = http.get_client()
    assert child is not parent and http.get_client() is child
