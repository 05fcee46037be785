"""The SSRF rule: unknown hosts, private addresses and redirects to them are refused; the allow-list is explicit."""

from __future__ import annotations

import base64
import socket

import httpx
import pytest

from apps.catalog import resolvers, safety, services
from apps.catalog.http import CatalogHttpClient
from apps.catalog.types import HosterError, HosterLink, HosterRefused, Language, Site

PRIVATE_URLS = [
    "http://127.0.0.1/e/x",
    "http://127.1.2.3:8080/e/x",
    "http://10.0.0.8/e/x",
    "http://172.16.5.4/e/x",
    "http://192.168.1.1/e/x",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/e/x",
    "http://0.0.0.0/e/x",
    "http://[::1]/e/x",
    "http://[fe80::1]/e/x",
    "http://[fd00::1]/e/x",
    "http://[::ffff:127.0.0.1]/e/x",
    "http://224.0.0.1/e/x",
    "http://localhost:8000/e/x",
]


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_private_and_local_addresses_are_refused(url, monkeypatch):
    monkeypatch.delenv("ANIWORLD_CATALOG_ALLOWED_HOSTS", raising=False)
    with pytest.raises(HosterRefused, match="private or local address"):
        safety.check_media_url(url)
    with pytest.raises(HosterRefused):
        safety.check_hoster_url(url, ("voe.sx",), "VOE")
    with pytest.raises(HosterRefused):
        resolvers.choose_resolver(url, "VOE")


@pytest.mark.parametrize(
    "url",
    ["https://evil.example/e/abc", "https://voe.sx.evil.example/e/abc", "https://notvoe.sx/e/abc"],
)
def test_hosts_no_resolver_claims_are_refused(url):
    with pytest.raises(HosterRefused, match="not a known"):
        resolvers.choose_resolver(url, "VOE")
    with pytest.raises(HosterRefused, match="not a known VOE domain"):
        safety.check_hoster_url(url, ("voe.sx",), "VOE")


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://voe.sx/x", "gopher://voe.sx/", "http://user:pw@voe.sx/e/x", "http:///x"]
)
def test_non_http_urls_and_credentials_are_refused(url):
    with pytest.raises(HosterRefused):
        safety.check_hoster_url(url, ("voe.sx",), "VOE")


def test_public_literal_addresses_pass_the_media_check(monkeypatch):
    monkeypatch.delenv("ANIWORLD_CATALOG_ALLOWED_HOSTS", raising=False)
    safety.check_media_url("https://8.8.8.8/video.mp4")
    safety.check_media_url("https://[2606:4700:4700::1111]/video.mp4")


def test_unresolvable_names_are_a_hoster_error():
    with pytest.raises(HosterError, match="cannot resolve"):
        safety.check_media_url("https://name.invalid/video.mp4")


def test_allow_list_is_explicit_and_port_specific(monkeypatch):
    monkeypatch.setenv("ANIWORLD_CATALOG_ALLOWED_HOSTS", "127.0.0.1:8765, [::1]")
    safety.check_media_url("http://127.0.0.1:8765/x")
    safety.check_hoster_url("http://127.0.0.1:8765/x", ("voe.sx",), "VOE")
    safety.check_media_url("http://[::1]:9999/x")  # host without port: every port
    with pytest.raises(HosterRefused):
        safety.check_media_url("http://127.0.0.1:8766/x")
    assert resolvers.choose_resolver("http://127.0.0.1:8765/hoster/x", "Vidoza").name == "Vidoza"


def test_fake_site_without_allow_list_is_refused(fake_site, monkeypatch):
    """Pointed at the fake site but not allow-listed: nothing on 127.0.0.1 is fetched, not even the catalog page."""
    for name, value in fake_site.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ANIWORLD_CATALOG_ALLOWED_HOSTS")
    monkeypatch.setenv("ANIWORLD_CATALOG_REQUESTS_PER_SECOND", "1000")
    link = HosterLink("VOE", Language.GERMAN_DUB, f"{fake_site.aniworld_url}/redirect/1001")
    with pytest.raises(HosterRefused, match="private or local address"):
        services.resolve_media(link)
    assert fake_site.stats()["requests"] == {}


@pytest.mark.parametrize(
    "target", ["http://10.1.2.3/e/abc", "http://169.254.169.254/latest/meta-data/", "http://[::1]:80/e/x"]
)
def test_catalog_redirect_to_a_private_address_is_refused(fake_catalog, target):
    fake_catalog.set_scenario(redirect_target=target)
    link = HosterLink("VOE", Language.GERMAN_DUB, f"{fake_catalog.aniworld_url}/redirect/1001")
    with pytest.raises(HosterRefused):
        services.resolve_media(link)


def test_catalog_redirect_to_an_unknown_host_is_refused(fake_catalog):
    fake_catalog.set_scenario(redirect_target="https://evil.example/steal")
    link = HosterLink("VOE", Language.GERMAN_DUB, f"{fake_catalog.aniworld_url}/redirect/1001")
    with pytest.raises(HosterRefused, match=r"evil\.example is not a known domain"):
        services.resolve_media(link)


@pytest.mark.parametrize("target", ["http://10.1.2.3/e/abc", "http://169.254.169.254/", "https://evil.example/x"])
def test_hoster_redirect_hop_to_private_or_unknown_host_is_refused(fake_catalog, target):
    """The embed page (on an allowed host) redirects elsewhere: every hop is checked before it is fetched."""
    fake_catalog.set_scenario(embed_redirect_target=target)
    sources = services.fetch_episode_sources(Site.ANIWORLD, "moonlit-blade", 1, 1)
    link = next(link for link in sources.hosters if link.hoster == "Vidoza")
    with pytest.raises(HosterRefused):
        services.resolve_media(link)


def test_redirect_links_from_other_hosts_are_refused(fake_catalog):
    link = HosterLink("VOE", Language.GERMAN_DUB, "https://evil.example/redirect/1001")
    with pytest.raises(HosterRefused, match="not on a catalog site"):
        services.resolve_media(link)


def test_covers_only_from_catalog_sites(fake_catalog):
    with pytest.raises(HosterRefused, match="not on a configured catalog site"):
        services.download_cover("http://169.254.169.254/cover.png")
    data, content_type = services.download_cover(f"{fake_catalog.aniworld_url}/public/img/cover/moonlit-blade.png")
    assert content_type == "image/png" and data.startswith(b"\x89PNG")


def test_media_url_from_a_resolver_is_checked(fake_catalog, monkeypatch):
    """A resolver returning a private media URL is refused even when the embed page was allowed."""
    from apps.catalog.resolvers import vidoza
    from apps.catalog.types import MediaKind, MediaSource

    monkeypatch.setattr(
        vidoza.VidozaResolver,
        "resolve",
        lambda self, url, session: MediaSource("http://10.0.0.5/v.mp4", MediaKind.FILE, "Vidoza"),
    )
    sources = services.fetch_episode_sources(Site.ANIWORLD, "moonlit-blade", 1, 1)
    link = next(link for link in sources.hosters if link.hoster == "Vidoza")
    with pytest.raises(HosterRefused, match="media URL was refused"):
        services.resolve_media(link)


class TestRealDomainsOffline:
    """Real hoster domains (not allow-listed), with DNS and HTTP replaced: the rule as it runs in production."""

    ADDRESSES = {
        "voe.sx": "93.184.216.34",
        "mirror-public.example": "93.184.216.35",
        "mirror-inside.example": "10.0.0.7",
    }

    @pytest.fixture(autouse=True)
    def offline_dns(self, monkeypatch):
        monkeypatch.delenv("ANIWORLD_CATALOG_ALLOWED_HOSTS", raising=False)

        def getaddrinfo(host, port, *args, **kwargs):
            if host not in self.ADDRESSES:
                raise socket.gaierror(f"unknown host {host}")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (self.ADDRESSES[host], port))]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    @staticmethod
    def client(pages: dict[str, str]) -> CatalogHttpClient:
        def answer(request: httpx.Request) -> httpx.Response:
            body = pages.get(str(request.url))
            return httpx.Response(200, text=body) if body is not None else httpx.Response(404, text="nope")

        return CatalogHttpClient(transport=httpx.MockTransport(answer), rate=lambda bucket: 1e9)

    def test_voe_mirror_hop_to_a_public_host_is_followed(self):
        hls = base64.b64encode(b"https://cdn.example/master.m3u8").decode()
        client = self.client(
            {
                "https://voe.sx/e/abc": "<script>window.location.href = 'https://mirror-public.example/e/abc';</script>",
                "https://mirror-public.example/e/abc": f"<script>var s = {{'hls': '{hls}'}};</script>",
            }
        )
        self.ADDRESSES["cdn.example"] = "93.184.216.36"
        try:
            media = resolvers.resolve_embed("https://voe.sx/e/abc", "VOE", client)
        finally:
            del self.ADDRESSES["cdn.example"]
        assert media.url == "https://cdn.example/master.m3u8"
        assert media.headers == {"Referer": "https://mirror-public.example/"}

    def test_voe_mirror_hop_to_a_private_address_is_refused(self):
        client = self.client(
            {"https://voe.sx/e/abc": "<script>window.location.href = 'https://mirror-inside.example/e/abc';</script>"}
        )
        with pytest.raises(HosterRefused, match="private or local address"):
            resolvers.resolve_embed("https://voe.sx/e/abc", "VOE", client)

    def test_media_url_on_a_private_address_is_refused(self):
        hls = base64.b64encode(b"https://mirror-inside.example/master.m3u8").decode()
        client = self.client({"https://voe.sx/e/abc": f"<script>var s = {{'hls': '{hls}'}};</script>"})
        with pytest.raises(HosterRefused, match="media URL was refused"):
            resolvers.resolve_embed("https://voe.sx/e/abc", "VOE", client)
