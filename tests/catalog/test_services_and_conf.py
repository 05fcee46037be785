"""Series references, catalog settings (env > settings source > defaults)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.catalog import conf, resolvers, services
from apps.catalog.types import Site


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("aniworld:moonlit-blade", (Site.ANIWORLD, "moonlit-blade")),
        ("  STO : harbor-lights ", (Site.STO, "harbor-lights")),
        ("https://aniworld.to/anime/stream/naruto", (Site.ANIWORLD, "naruto")),
        ("https://aniworld.to/anime/stream/naruto/staffel-2/episode-3", (Site.ANIWORLD, "naruto")),
        ("http://127.0.0.1:8765/aw/anime/stream/moonlit-blade/filme", (Site.ANIWORLD, "moonlit-blade")),
        ("https://s.to/serie/stream/breaking-bad/staffel-1", (Site.STO, "breaking-bad")),
        ("https://serienstream.to/serie/the-office/staffel-1/episode-2", (Site.STO, "the-office")),
    ],
)
def test_parse_series_reference(value, expected):
    assert services.parse_series_reference(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "naruto",
        "crunchyroll:naruto",
        "aniworld:",
        "aniworld:../etc",
        "https://aniworld.to/animes/genre/action",
        "ftp://aniworld.to/anime/stream/x",
        "aniworld:a b",
    ],
)
def test_parse_series_reference_rejects(value):
    with pytest.raises(ValueError, match="neither"):
        services.parse_series_reference(value)


def test_base_urls_default_env_and_source(monkeypatch):
    monkeypatch.delenv("ANIWORLD_ANIWORLD_URL", raising=False)
    monkeypatch.delenv("ANIWORLD_STO_URL", raising=False)
    assert conf.site_base_url(Site.ANIWORLD) == "https://aniworld.to"
    assert conf.site_base_url(Site.STO) == "https://s.to"
    settings = {"catalog.sto_url": "https://serienstream.to/"}
    previous = conf.settings_source()
    conf.use_settings_source(settings.get)
    try:
        assert conf.site_base_url(Site.STO) == "https://serienstream.to"
        monkeypatch.setenv("ANIWORLD_STO_URL", "http://127.0.0.1:9/sto/")
        assert conf.site_base_url(Site.STO) == "http://127.0.0.1:9/sto"  # the environment wins (tests, demo)
    finally:
        conf.use_settings_source(previous)


def test_a_failing_settings_source_falls_back_to_defaults(monkeypatch):
    monkeypatch.delenv("ANIWORLD_HOSTER_ORDER", raising=False)
    monkeypatch.delenv("ANIWORLD_ANIWORLD_URL", raising=False)

    def broken(key: str):
        raise ConnectionError("database down")

    previous = conf.settings_source()
    conf.use_settings_source(broken)
    try:
        assert resolvers.hoster_order() == resolvers.default_hoster_order()
        assert conf.site_base_url(Site.ANIWORLD) == "https://aniworld.to"
    finally:
        conf.use_settings_source(previous)


@pytest.mark.parametrize("bad", ["aniworld.to", "ftp://aniworld.to", "https://aniworld.to/?x=1", "https://"])
def test_base_url_must_be_http(bad):
    with pytest.raises(ValueError):
        conf.normalise_base_url(bad)


def test_hoster_order_and_rate_settings(monkeypatch):
    monkeypatch.delenv("ANIWORLD_HOSTER_ORDER", raising=False)
    monkeypatch.delenv("ANIWORLD_CATALOG_REQUESTS_PER_SECOND", raising=False)
    assert conf.hoster_order() == ()  # nothing configured: the registry's default order applies
    assert resolvers.hoster_order() == resolvers.default_hoster_order()
    assert conf.requests_per_second("aniworld") == 1.0
    previous = conf.settings_source()
    settings = {
        "catalog.hoster_order": ["VOE", "Filemoon"],
        "catalog.requests_per_second": 0.5,
        "catalog.requests_per_second:sto": 0.25,
    }
    conf.use_settings_source(settings.get)
    try:
        assert conf.hoster_order() == ("VOE", "Filemoon")
        assert conf.requests_per_second("aniworld") == 0.5
        assert conf.requests_per_second("sto") == 0.25
        assert conf.requests_per_second("hoster:VOE") == 0.5
    finally:
        conf.use_settings_source(previous)
    monkeypatch.setenv("ANIWORLD_CATALOG_REQUESTS_PER_SECOND", "-3")
    with pytest.raises(ImproperlyConfigured, match="ANIWORLD_CATALOG_REQUESTS_PER_SECOND"):
        conf.requests_per_second("aniworld")  # nonsense is refused, not silently replaced by the default
    with pytest.raises(ImproperlyConfigured, match="ANIWORLD_CATALOG_REQUESTS_PER_SECOND"):
        conf.check_environment()


def test_allowed_hosts_empty_by_default(monkeypatch):
    monkeypatch.delenv("ANIWORLD_CATALOG_ALLOWED_HOSTS", raising=False)
    assert conf.allowed_hosts() == frozenset()
    monkeypatch.setenv("ANIWORLD_CATALOG_ALLOWED_HOSTS", " 127.0.0.1:8765 ,Localhost,")
    assert conf.allowed_hosts() == frozenset({"127.0.0.1:8765", "localhost"})


def test_search_raises_when_every_site_fails(fake_catalog):
    fake_catalog.set_scenario(block_prefix="/")
    with pytest.raises(services.SiteBlocking):
        services.search("moon")


def test_search_returns_other_site_when_one_fails(fake_catalog):
    fake_catalog.set_scenario(fail_times=100, fail_prefix="/aw/")
    outcome = services.search_sites("harbor")
    assert [r.slug for r in outcome.results] == ["harbor-lights"]
    assert isinstance(outcome.failures[Site.ANIWORLD], services.SiteUnavailable)
