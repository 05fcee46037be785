"""Catalog work per user is rate limited (shared across web processes through the cache)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from aniworld_site.env import env_rate
from tests.api.test_errors_and_docs import assert_error

pytestmark = pytest.mark.django_db


def test_searches_beyond_the_rate_get_429_with_retry_after(auth_client, fake_catalog, settings):
    settings.CATALOG_USER_RATE = "3/min"
    for query in ("moon", "harbor", "spirit"):
        assert auth_client.get("/api/search", {"q": query}).status_code == 200
    requests_before = sum(fake_catalog.stats()["requests"].values())
    response = auth_client.get("/api/search", {"q": "blade"})
    error = assert_error(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 60
    assert error["details"]["retry_after_seconds"] == int(response["Retry-After"])
    assert sum(fake_catalog.stats()["requests"].values()) == requests_before  # nothing went to the catalog


def test_add_and_refresh_share_the_users_catalog_budget(auth_client, fake_catalog, settings):
    settings.CATALOG_USER_RATE = "2/min"
    assert auth_client.get("/api/search", {"q": "moon"}).status_code == 200
    assert auth_client.post("/api/search/add", {"url": "not a url"}, format="json").status_code == 400
    assert_error(
        auth_client.post("/api/search/add", {"site": "aniworld", "slug": "x"}, format="json"), 429, "throttled"
    )
    assert_error(auth_client.post("/api/anime/1/refresh"), 429, "throttled")


@pytest.mark.parametrize("raw", ["30/min", "5/s", "100/hour", "1000/day", " 7/m "])
def test_rate_setting_accepts_drf_rates(monkeypatch, raw):
    monkeypatch.setenv("ANIWORLD_CATALOG_USER_RATE", raw)
    assert env_rate("ANIWORLD_CATALOG_USER_RATE", "30/min") == raw.strip()


@pytest.mark.parametrize("raw", ["30", "30/fortnight", "x/min", "0/min", "-1/min", "30 per minute"])
def test_rate_setting_refuses_anything_else(monkeypatch, raw):
    monkeypatch.setenv("ANIWORLD_CATALOG_USER_RATE", raw)
    with pytest.raises(ImproperlyConfigured, match="ANIWORLD_CATALOG_USER_RATE"):
        env_rate("ANIWORLD_CATALOG_USER_RATE", "30/min")
