"""Connections per hoster: the settings, a per-hoster cap, and the scorecard's memory of hosters that refused."""

from __future__ import annotations

import functools

import pytest
from django.core.exceptions import ImproperlyConfigured

from aniworld_site.env import env_limits
from apps.queue import hoster_connections
from apps.scorecard import services as scorecard


def test_settings_and_per_hoster_caps(settings, db):
    settings.DOWNLOAD_CONNECTIONS = 8
    settings.HOSTER_CONNECTIONS = {"voe": 1, "filemoon": 16}
    assert hoster_connections.connections_for("aniworld", "Vidoza") == 8
    assert hoster_connections.connections_for("aniworld", "VOE") == 1
    assert hoster_connections.connections_for("aniworld", "Filemoon") == 8, "a cap never raises the setting"


def test_a_hoster_that_refused_parallel_ranges_gets_one_connection(settings, db):
    settings.DOWNLOAD_CONNECTIONS = 8
    settings.HOSTER_CONNECTIONS = {}
    functools.partial(scorecard.mark_single_connection, "aniworld", "Vidoza")(429)  # as the worker passes it
    assert hoster_connections.connections_for("aniworld", "vidoza") == 1
    assert hoster_connections.connections_for("sto", "Vidoza") == 8, "remembered per site"
    assert hoster_connections.connections_for("aniworld", "VOE") == 8


def test_env_limits_are_parsed_strictly(monkeypatch):
    monkeypatch.setenv("X_LIMITS", "VOE:1, Filemoon : 4")
    assert env_limits("X_LIMITS", maximum=32) == {"voe": 1, "filemoon": 4}
    monkeypatch.delenv("X_LIMITS")
    assert env_limits("X_LIMITS") == {}
    for raw in ("VOE", "VOE:x", ":3", "VOE:0", "VOE:99"):
        monkeypatch.setenv("X_LIMITS", raw)
        with pytest.raises(ImproperlyConfigured):
            env_limits("X_LIMITS", maximum=32)
