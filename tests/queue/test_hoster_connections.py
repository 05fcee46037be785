"""Connections per hoster: the settings, a per-hoster cap, and the memory of hosters that refused parallel ranges."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from aniworld_site.env import env_limits
from apps.queue import hoster_connections


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_settings_and_per_hoster_caps(settings):
    settings.DOWNLOAD_CONNECTIONS = 8
    settings.HOSTER_CONNECTIONS = {"voe": 1, "filemoon": 16}
    assert hoster_connections.connections_for("Vidoza") == 8
    assert hoster_connections.connections_for("VOE") == 1
    assert hoster_connections.connections_for("Filemoon") == 8, "a cap never raises the setting"


def test_a_hoster_that_refused_parallel_ranges_gets_one_connection_until_forgotten(settings):
    settings.DOWNLOAD_CONNECTIONS = 8
    settings.HOSTER_CONNECTIONS = {}
    assert hoster_connections.parallel_refused("Vidoza") is None
    hoster_connections.remember_parallel_refused("Vidoza", 429)
    assert hoster_connections.connections_for("vidoza") == 1
    assert hoster_connections.parallel_refused("VIDOZA")["status"] == 429
    assert hoster_connections.connections_for("VOE") == 8
    hoster_connections.forget("Vidoza")
    assert hoster_connections.connections_for("Vidoza") == 8


def test_env_limits_are_parsed_strictly(monkeypatch):
    monkeypatch.setenv("X_LIMITS", "VOE:1, Filemoon : 4")
    assert env_limits("X_LIMITS", maximum=32) == {"voe": 1, "filemoon": 4}
    monkeypatch.delenv("X_LIMITS")
    assert env_limits("X_LIMITS") == {}
    for raw in ("VOE", "VOE:x", ":3", "VOE:0", "VOE:99"):
        monkeypatch.setenv("X_LIMITS", raw)
        with pytest.raises(ImproperlyConfigured):
            env_limits("X_LIMITS", maximum=32)


def test_a_broken_cache_never_fails_a_download(settings, monkeypatch):
    settings.DOWNLOAD_CONNECTIONS = 8
    settings.HOSTER_CONNECTIONS = {}

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(hoster_connections.cache, "get", down)
    monkeypatch.setattr(hoster_connections.cache, "set", down)
    hoster_connections.remember_parallel_refused("Vidoza", 403)
    assert hoster_connections.connections_for("Vidoza") == 8
