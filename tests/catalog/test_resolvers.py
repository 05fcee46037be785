"""Every hoster resolver: decoders on samples, and the full path catalog link -> media against the fake site."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from apps.catalog import resolvers, services
from apps.catalog.resolvers import doodstream, filemoon, gupload, loadx, luluvdo, packer, speedfiles, streamtape, voe
from apps.catalog.types import HosterError, HosterLink, Language, MediaKind, Site
from apps.configuration.defaults import DEFAULT_HOSTER_PREFERENCE
from tests.fakesite import obfuscation
from tests.fakesite.catalog import HOSTER_PATHS, build_catalog, sample_variant
from tests.fakesite.server import PAGES_DIR

FAKE_LINKS = build_catalog().links

# A VOE payload as the page carries it (made once with the fake site's encoder, frozen here so a change
# to encoder and decoder together cannot hide a break in the chain).
VOE_SAMPLE = (
    "CR1THKb0pR9ir0czq0x1MzkRoS@$WfJRcyZ29XM2kREx9fnyqasGAj^^G3kMFzq9FIcyrIOjKTf8IyO6B2~@kDsKgXMUyLpTImM3Oyomk"
    "TM284%?pR9ir0czq0yXnT84sSkfFIcCo1*~H1MKt0Izu8JKOap3gnKJ48sR85!!HRgzZ1IYMTkRoSWfJQIpsSx2MK#&1AsTt=@$"
)
VOE_SAMPLE_SOURCE = "https://delivery-node-abc.example.net/engine/hls2/01/abc/master.m3u8"


def test_voe_payload_chain_on_a_sample():
    assert voe.decode_payload(VOE_SAMPLE) == {"source": VOE_SAMPLE_SOURCE, "title": "sample.mp4"}


def test_voe_payload_round_trip_and_garbage():
    payload = {"source": "https://x.example/a.m3u8", "name": "Ünïcode"}
    assert voe.decode_payload(obfuscation.voe_encode_payload(payload)) == payload
    with pytest.raises(ValueError, match="does not decode"):
        voe.decode_payload("definitely not a payload")
    page = '<script type="application/json">["' + obfuscation.voe_encode_payload(payload) + '"]</script>'
    assert voe.payload_from_page(page) == payload


def test_voe_legacy_hls_value():
    url = "https://cdn.example/master.m3u8"
    assert voe.legacy_source(f"'hls': '{base64.b64encode(url.encode()).decode()}',") == (url, MediaKind.HLS)
    mp4 = "https://cdn.example/video.mp4"
    assert voe.legacy_source(f"'mp4': '{mp4}'") == (mp4, MediaKind.FILE)  # a plain URL is taken as it is
    assert voe.legacy_source("nothing here") is None


def test_packer_unpacks_a_classic_sample():
    sample = (
        "eval(function(p,a,c,k,e,d){while(c--)if(k[c])p=p.replace(new RegExp('\\\\b'+c.toString(a)+'\\\\b','g'),"
        "k[c]);return p}('0 1=\\'2://3.4/5.6\\';',7,7,'var|src|https|cdn|example|master|m3u8'.split('|'),0,{}))"
    )
    assert packer.find_packed(sample) == ["var src='https://cdn.example/master.m3u8';"]


def test_packer_round_trip_and_errors():
    source = 'jwplayer("v").setup({sources:[{file:"https://a.example/x/master.m3u8?t=1&e=2"}]});'
    assert packer.find_packed(obfuscation.pack_js(source)) == [source]
    assert packer.find_packed("no packed script") == []
    with pytest.raises(packer.UnpackError, match="symbol table"):
        packer.find_packed("eval(function(p,a,c,k,e,d){}('0 1',10,3,'a|b'.split('|'),0,{}))")
    assert packer.unbase("Z", 62) == 61 and packer.to_base(61, 62) == "Z"


def test_filemoon_decrypts_the_playback_payload():
    key, iv = bytes(range(32)), bytes(range(12))
    plain = json.dumps(
        {"sources": [{"url": "https://a/low.m3u8", "height": 360}, {"url": "https://a/hi.m3u8", "height": 1080}]}
    )
    b64 = lambda data: base64.urlsafe_b64encode(data).decode().rstrip("=")  # noqa: E731
    playback = {
        "algorithm": "AES-256-GCM",
        "iv": b64(iv),
        "payload": b64(AESGCM(key).encrypt(iv, plain.encode(), None)),
        "key_parts": [b64(key[:16]), b64(key[16:])],
    }
    assert filemoon.best_source(filemoon.decrypt_playback(playback)) == ("https://a/hi.m3u8", 1080)
    with pytest.raises(ValueError, match="does not decrypt"):
        filemoon.decrypt_playback({**playback, "key_parts": [b64(key[16:]), b64(key[:16])]})
    with pytest.raises(ValueError, match="128-bit key"):
        filemoon.decrypt_playback({**playback, "key_parts": [b64(key[:16])]})
    with pytest.raises(ValueError, match="unknown playback algorithm"):
        filemoon.decrypt_playback({**playback, "algorithm": "AES-128-CBC"})


def test_streamtape_link_assembly():
    script = obfuscation.streamtape_script("//streamtape.com/get_video?id=abc&expires=1&ip=x&token=", "REAL")
    found = streamtape.LINK.search(script)
    assert streamtape.assemble(*found.groups()) == "//streamtape.com/get_video?id=abc&expires=1&ip=x&token=REAL"


SPEEDFILES_SAMPLE = (
    "PT1hbldxZG0ycVpuV3V0eTNHWm4zQ2RtWm1NbjBtSm4weXRuV0Nkblp1Wm5YcUp6M0t0bktEdG0wbU1uS3p0eTNpZG5KemR6MWFa"
    "bldxdHpacWRuS0RkejFhSm4weVpuM2FabTN5ZG4zQ1puV21aeTNHdG5XeWR6MXEybkpyZHozZVptMHF0eTFxMm5XdUp5M2F0bktE"
    "dG0xaTJtWnlabjBDdG5XcXR5MHFnbjNDWm4zcU1uNUN0eTJHWm5LRGRvM2F0blpxWm4weTJuNHlKejNLSm5IRHRuMUtabjVDWm4z"
    "S1ptWkNkbjJDWm5XQ1puM3FNbjNDdG5adXRuMnF0ejNHdG5LRGR6Wm1abjVtWm0zcU1uNUN0b1p1Sm40Q3R5M0NKbkhEdG4yS2Ru"
    "MnFkelptMm1aQ2R6MUtabjVDWm4zbXRuNEN0b1p1ZG4wdXRvM3VabTJDWm0wdWduM0NabjNxMm0wcUpuMHEybkpyWnkwaWduS0Ra"
    "eTBtTW5LelpuM3F3bjVDZG1aeWRuMnFKejNlWm0xQ1p5MGkybUpEdG8zcXduSm5aeTJlZ24zdWR6Wm1NbjJxWm4weTJtNHVkbTJ5"
    "d25LRHRvMmVnbjF1Wm0zcU1uSERkejB5Mm41eXR5MHl0bktuZG8zeVpuV210bjN1Sm4zQ0ptWktKbjV5SnkwQ3RuM0NkbzJlZ24w"
    "cWR6MktabTFDWnkxR1puSnpabjNhdG5IemRuMkNkbjN1ZG8zcUpuM0NkejFDWm1Kdlp5MnkybTVDZG0yaWduMm1abTN1Sm5JcmRu"
)
SPEEDFILES_SAMPLE_URL = (
    "https://md4.t0006.cache-tqz84v1.speedfiles.net/store_access/d2bb8bb75e7d?token=5ogOcpTFMa6TVtWFsRK6D6S044U5oDeKRWi1"
    "FDXVSv8&t=1731385663&e=10800&f=d2bb8bb75e7d&sp=1500"
)


def test_speedfiles_chain_on_a_real_sample_and_round_trip():
    """The payload of a real page (from Funami580/sdl's test) and the fake site's encoder for it, byte for byte."""
    assert speedfiles.decode_payload(SPEEDFILES_SAMPLE) == SPEEDFILES_SAMPLE_URL
    assert obfuscation.speedfiles_encode(SPEEDFILES_SAMPLE_URL) == SPEEDFILES_SAMPLE
    page = (
        f'var _0x5opu637 = "6a6b6c";var _0x5opu126 = "ZGVjb3kgZGVjb3kgZGVjb3k=";var _0x5opu999 = "{SPEEDFILES_SAMPLE}";'
    )
    assert speedfiles.media_url_from_page(page) == SPEEDFILES_SAMPLE_URL  # found under another variable name too
    with pytest.raises(ValueError, match="does not decode"):
        speedfiles.decode_payload("ZGVjb3k=")


def test_gupload_both_page_forms():
    config = {"videoUrl": "https://gupload.xyz/data/e/hls/sample/720p.m3u8"}
    page = (
        "var _k=(function(){var _p=['G7#k','P!2q','ZxV9','mRwL'];return _p[0]+_p[1]+_p[2]+_p[3];})();"
        f"var _cfg = _dp('{obfuscation.gupload_config(config, 'G7#kP!2qZxV9mRwL')}');"
    )
    assert gupload.configuration_from_page(page) == config
    with pytest.raises(ValueError, match="does not decode"):
        gupload.configuration_from_page(page.replace("mRwL", "XXXX"))
    legacy = f"decodePayload('{obfuscation.gupload_legacy_payload(config)}');"
    assert gupload.configuration_from_page(legacy) == config
    assert gupload.configuration_from_page("<p>nothing</p>") is None


def test_loadx_player_id_from_packed_script_or_url():
    packed = obfuscation.pack_js('FirePlayer("abc123", {"autoplay": false}, false);')
    assert loadx.player_id(f"<script>{packed}</script>", "https://loadx.ws/video/zzz") == "abc123"
    assert loadx.player_id("<p>no player</p>", "https://loadx.ws/video/9436c43d396c2eb0") == "9436c43d396c2eb0"


def test_luluvdo_sources_in_plain_or_packed_setup():
    setup = 'jwplayer("vplayer").setup({sources: [{file:"https://cdn.example/hls2/master.m3u8?t=1"}]});'
    assert luluvdo.source_from([setup]) == "https://cdn.example/hls2/master.m3u8?t=1"
    assert (
        luluvdo.source_from(packer.find_packed(obfuscation.pack_js(setup)))
        == "https://cdn.example/hls2/master.m3u8?t=1"
    )
    assert luluvdo.source_from(["<p>nothing</p>"]) is None


def test_doodstream_media_url_shape():
    url = doodstream.build_media_url("https://cdn.example/abc~", "tok", now_ms=1700000000000)
    prefix, query = url.split("?")
    assert prefix.startswith("https://cdn.example/abc~") and len(prefix) == len("https://cdn.example/abc~") + 10
    assert query == "token=tok&expiry=1700000000000"


def _links(site: Site, slug: str, season: int, number: int) -> dict[tuple[str, Language], HosterLink]:
    sources = services.fetch_episode_sources(site, slug, season, number)
    return {(link.hoster, link.language): link for link in sources.hosters}


def _fetch_media(media, *, with_headers: bool = True) -> httpx.Response:
    headers = media.headers if with_headers else {}
    response = httpx.get(media.url, headers=headers, follow_redirects=True, timeout=30)
    if media.kind == MediaKind.HLS and response.status_code == 200:
        first_segment = next(line for line in response.text.splitlines() if line and not line.startswith("#"))
        return httpx.get(httpx.URL(media.url).join(first_segment), headers=headers, timeout=30)
    return response


SAMPLES = [
    pytest.param(resolver, sample, id=f"{resolver.name}-{sample.variant or 'default'}")
    for resolver in resolvers.RESOLVERS
    for sample in resolver.samples
]


def _sample_link(resolver, sample) -> HosterLink:
    """A live fake-catalog link whose embed page shows ``sample``'s form."""
    for number in (1, 2, 3):
        if sample_variant(resolver.name, number) != sample.variant:
            continue
        for (hoster, _language), link in _links(Site.ANIWORLD, "moonlit-blade", 1, number).items():
            fake = FAKE_LINKS[int(link.link_id)]
            if hoster == resolver.name and not fake.dead:
                return link
    raise AssertionError(f"the fake catalog shows no live {resolver.name} link in the form {sample.variant!r}")


@pytest.mark.parametrize(("resolver", "sample"), SAMPLES)
def test_every_sample_resolves_against_the_fake_site(fake_catalog, resolver, sample):
    media = services.resolve_media(_sample_link(resolver, sample))
    assert (media.hoster, media.kind, media.height) == (resolver.name, sample.kind, sample.height)
    assert media.url.startswith(fake_catalog.base_url + "/")
    response = _fetch_media(media)
    assert response.status_code == 200 and len(response.content) > 1000
    if sample.referer_required:
        assert "Referer" in media.headers
        assert _fetch_media(media, with_headers=False).status_code == 403


@pytest.mark.parametrize("resolver", resolvers.RESOLVERS, ids=lambda resolver: resolver.name)
def test_every_resolver_declares_rank_samples_domains_and_a_fake_embed_page(resolver):
    assert resolver.samples and resolver.domains and isinstance(resolver.default_rank, int)
    assert len({sample.variant for sample in resolver.samples}) == len(resolver.samples)
    assert resolver.name in HOSTER_PATHS, "the fake catalog has no embed page for this hoster"
    assert list(PAGES_DIR.glob(f"embed_{HOSTER_PATHS[resolver.name]}*.html"))
    assert resolvers.resolver_by_name(resolver.name.upper()) is resolver
    for domain in resolver.domains:
        assert resolvers.resolver_by_host(f"https://www.{domain}/e/abc") is resolver
        assert resolvers.resolver_by_host(f"https://{domain}.evil.example/e/abc") is None


def test_default_hoster_order_comes_from_the_registry_ranks(monkeypatch):
    monkeypatch.delenv("ANIWORLD_HOSTER_ORDER", raising=False)
    order = resolvers.default_hoster_order()
    assert sorted(order) == sorted(resolvers.supported_hosters())
    ranks = [resolvers.resolver_by_name(name).default_rank for name in order]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
    assert order == DEFAULT_HOSTER_PREFERENCE  # the owner's default setting
    monkeypatch.setenv("ANIWORLD_HOSTER_ORDER", "Streamtape, VOE")
    assert resolvers.hoster_order() == ("Streamtape", "VOE")


def test_sto_links_resolve_through_the_token_redirect(fake_catalog):
    link = _links(Site.STO, "harbor-lights", 1, 1)[("Vidoza", Language.ENGLISH_DUB)]
    media = services.resolve_media(link)
    assert media.kind == MediaKind.FILE and "/media/vidoza/" in media.url
    assert fake_catalog.stats()["requests"]["/sto/r"] == 1


def test_dead_link_reports_hoster_and_step(fake_catalog):
    link = _links(Site.ANIWORLD, "moonlit-blade", 1, 1)[("Streamtape", Language.GERMAN_DUB)]  # dead on odd episodes
    with pytest.raises(HosterError, match=r"Streamtape: embed page: the file is gone \(HTTP 404"):
        services.resolve_media(link)


def test_dead_hoster_scenario(fake_catalog):
    fake_catalog.set_scenario(dead_hosters=["VOE", "Vidoza"])
    links = _links(Site.ANIWORLD, "moonlit-blade", 1, 1)
    for name in ("VOE", "Vidoza"):
        with pytest.raises(HosterError, match=f"{name}: embed page: the hoster says the file no longer exists"):
            services.resolve_media(links[(name, Language.GERMAN_DUB)])
    assert services.resolve_media(links[("Vidmoly", Language.GERMAN_DUB)]).hoster == "Vidmoly"


def test_unsupported_hoster_is_reported_without_fetching(fake_catalog):
    link = HosterLink("Megaupload", Language.GERMAN_DUB, f"{fake_catalog.aniworld_url}/redirect/1001")
    with pytest.raises(HosterError, match="Megaupload: not supported"):
        services.resolve_media(link)
    assert "/aw/redirect/1001" not in fake_catalog.stats()["requests"]


def test_captcha_on_the_catalog_redirect_is_site_blocking(fake_catalog):
    fake_catalog.set_scenario(captcha_prefix="/aw/redirect/")
    link = _links(Site.ANIWORLD, "moonlit-blade", 1, 1)[("Vidoza", Language.GERMAN_DUB)]
    with pytest.raises(services.SiteBlocking) as caught:
        services.resolve_media(link)
    assert "aniworld.to is blocking us" in str(caught.value) and caught.value.retry_at
    assert fake_catalog.requests_to("/aw/redirect/") == 1
    assert fake_catalog.requests_to("/hoster/") == 0


def test_a_hoster_showing_a_captcha_is_a_hoster_error_not_a_site_block(fake_catalog):
    fake_catalog.set_scenario(captcha_prefix="/hoster/vidoza/")
    link = _links(Site.ANIWORLD, "moonlit-blade", 1, 1)[("Vidoza", Language.GERMAN_DUB)]
    with pytest.raises(HosterError, match="Vidoza: embed page: the hoster shows a block or captcha"):
        services.resolve_media(link)


def test_hoster_5xx_is_retried_then_resolves(fake_catalog):
    fake_catalog.set_scenario(fail_times=2, fail_status=503, fail_prefix="/hoster/vidmoly/")
    link = _links(Site.ANIWORLD, "moonlit-blade", 1, 1)[("Vidmoly", Language.GERMAN_DUB)]
    assert services.resolve_media(link).hoster == "Vidmoly"
    assert fake_catalog.requests_to("/hoster/vidmoly/") == 3
