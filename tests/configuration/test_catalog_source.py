"""The catalog reads the owner's site URLs, hoster order and request rate through the registered source."""

from __future__ import annotations

import pytest

from apps.catalog import conf, resolvers
from apps.catalog.resolvers import supported_hosters
from apps.catalog.types import Site
from apps.configuration import defaults, services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_environment_overrides(monkeypatch):
    for name in [*conf.ENV_BASE_URL.values(), conf.ENV_HOSTER_ORDER, conf.ENV_REQUESTS_PER_SECOND]:
        monkeypatch.delenv(name, raising=False)


def test_catalog_follows_the_saved_settings():
    assert conf.site_base_url(Site.ANIWORLD) == "https://aniworld.to"
    assert resolvers.hoster_order() == conf.hoster_order() == defaults.DEFAULT_HOSTER_PREFERENCE
    services.update_settings(
        {
            "provider_urls": {"sto": "https://serienstream.to/"},
            "hoster_preference": ["Vidoza", "VOE"],
            "request_rates": {"aniworld": 0.2, "sto": 2},
        },
        actor="owner",
    )
    assert conf.site_base_url(Site.STO) == "https://serienstream.to"
    assert conf.hoster_order() == ("Vidoza", "VOE")
    assert conf.requests_per_second("aniworld") == 0.2  # the slowest site rate until buckets are passed on
    assert conf._from_source(f"{conf.KEY_REQUESTS_PER_SECOND}:sto") == 2.0


def test_hoster_choices_are_the_catalog_resolvers(owner_client):
    for hoster in supported_hosters():
        response = owner_client.put("/api/config", {"hoster_preference": [hoster]}, format="json")
        assert response.status_code == 200, (hoster, response.content)
    response = owner_client.put("/api/config", {"hoster_preference": ["Megaupload"]}, format="json")
    assert response.status_code == 400
    assert "Unknown hoster" in response.json()["error"]["details"]["hoster_preference"][0]
