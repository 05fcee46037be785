"""A site that blocked us is left alone until its retry time: search, refresh and add answer from the known block.

Each test lets the fake site block once (the request that learns the block), then
checks that the API answers 503 with Retry-After and the JSON error shape while
the fake site's statistics show that nothing more was sent; ``check_now`` asks anyway.
"""

from __future__ import annotations

import pytest

from apps.library import services as library_services

pytestmark = pytest.mark.django_db


def _assert_known_block(response) -> None:
    assert response.status_code == 503, response.content
    error = response.json()["error"]
    assert error["code"] == "site_blocking" and error["details"]["retry_at"]
    assert 60 < int(response["Retry-After"]) <= 1800
    assert "blocking us" in error["message"]


def test_search_answers_from_the_known_block(auth_client, fake_catalog):
    fake_catalog.set_scenario(block_prefix="/aw/")
    _assert_known_block(auth_client.get("/api/search", {"q": "moon", "site": "aniworld"}))
    assert fake_catalog.requests_to("/aw/") == 1  # the request that learned the block

    fake_catalog.reset()  # the site would answer again, but its retry time has not come
    response = auth_client.get("/api/search", {"q": "spirit", "site": "aniworld"})
    _assert_known_block(response)
    assert "nothing was sent" in response.json()["error"]["message"]
    assert fake_catalog.stats()["requests"] == {}

    both = auth_client.get("/api/search", {"q": "harbor"}).json()  # the other site is still asked
    assert [r["slug"] for r in both["results"]] == ["harbor-lights"]
    assert [w["site"] for w in both["warnings"]] == ["aniworld"]
    assert fake_catalog.requests_to("/aw/") == 0

    checked = auth_client.get("/api/search", {"q": "spirit", "site": "aniworld", "check_now": "true"})
    assert checked.status_code == 200 and checked.json()["results"][0]["slug"] == "spirit-and-steel"
    assert auth_client.get("/api/search", {"q": "moon", "site": "aniworld"}).status_code == 200  # block forgotten


def test_refresh_answers_from_the_known_block(auth_client, fake_catalog, library):
    series = library_services.add_series("aniworld", "moonlit-blade")
    fake_catalog.reset()
    fake_catalog.set_scenario(block_prefix="/aw/")
    _assert_known_block(auth_client.post(f"/api/anime/{series.pk}/refresh"))
    assert fake_catalog.requests_to("/aw/") == 1

    fake_catalog.reset()
    _assert_known_block(auth_client.post(f"/api/anime/{series.pk}/refresh"))
    assert fake_catalog.stats()["requests"] == {}

    response = auth_client.post(f"/api/anime/{series.pk}/refresh?check_now=true")
    assert response.status_code == 200, response.content
    assert fake_catalog.requests_to("/aw/anime/stream/moonlit-blade") >= 1


def test_add_answers_from_the_known_block(auth_client, fake_catalog, library):
    fake_catalog.set_scenario(block_prefix="/sto/")
    _assert_known_block(auth_client.post("/api/search/add", {"site": "sto", "slug": "harbor-lights"}, format="json"))
    assert fake_catalog.requests_to("/sto/") == 1

    fake_catalog.reset()
    _assert_known_block(auth_client.post("/api/search/add", {"site": "sto", "slug": "harbor-lights"}, format="json"))
    assert fake_catalog.stats()["requests"] == {}

    response = auth_client.post(
        "/api/search/add?check_now=true", {"site": "sto", "slug": "harbor-lights"}, format="json"
    )
    assert response.status_code == 201, response.content
