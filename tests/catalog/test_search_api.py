"""GET /api/search: contract, validation, caching, one site down, blocking."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_search_needs_authentication(api_client, owner):
    response = api_client.get("/api/search", {"q": "moon"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_search_merges_both_sites_naming_the_site(auth_client, fake_catalog):
    # "Moonlit", "Spirit", "hostile", "Harbor Lights"; s.to's suggestions need 3 characters, its search page not
    response = auth_client.get("/api/search", {"q": "i"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["query"] == "i" and body["sites"] == ["aniworld", "sto"]
    assert body["warnings"] == [] and body["cached"] is False
    by_slug = {r["slug"]: r for r in body["results"]}
    assert {"moonlit-blade", "spirit-and-steel", "hostile-title", "harbor-lights"} <= set(by_slug)
    harbor = by_slug["harbor-lights"]
    assert harbor == {
        "site": "sto",
        "slug": "harbor-lights",
        "reference": "sto:harbor-lights",
        "title": "Harbor Lights",
        "url": f"{fake_catalog.sto_url}/serie/harbor-lights",
        "year": None,
        "description": "",
        "cover_url": f"{fake_catalog.sto_url}/media/images/channel/mobile/harbor-lights-lrd0j8zs?format=webp",
    }
    assert by_slug["moonlit-blade"]["site"] == "aniworld"


def test_search_one_site(auth_client, fake_catalog):
    response = auth_client.get("/api/search", {"q": "moon", "site": "sto"})
    assert response.status_code == 200
    assert response.json()["results"] == [] and response.json()["sites"] == ["sto"]
    assert "/aw/ajax/search" not in fake_catalog.stats()["requests"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({}, "q"), ({"q": ""}, "q"), ({"q": "   "}, "q"), ({"q": "x" * 101}, "q"), ({"q": "moon", "site": "x"}, "site")],
)
def test_search_validation(auth_client, fake_catalog, params, field):
    response = auth_client.get("/api/search", params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["details"]
    assert fake_catalog.stats()["requests"] == {}  # nothing was sent to the catalog


def test_search_accepts_100_characters(auth_client, fake_catalog):
    assert auth_client.get("/api/search", {"q": "x" * 100}).status_code == 200


def test_search_is_cached(auth_client, fake_catalog):
    first = auth_client.get("/api/search", {"q": "Moon"}).json()
    second = auth_client.get("/api/search", {"q": "moon"}).json()  # same query, other case
    assert second["cached"] is True and second["results"] == first["results"]
    assert fake_catalog.stats()["requests"]["/aw/ajax/search"] == 1
    auth_client.get("/api/search", {"q": "moon", "site": "aniworld"})  # another site selection: own entry
    assert fake_catalog.stats()["requests"]["/aw/ajax/search"] == 2


def test_one_site_down_gives_the_other_with_a_warning(auth_client, fake_catalog):
    fake_catalog.set_scenario(block_prefix="/sto/")
    body = auth_client.get("/api/search", {"q": "moon"}).json()
    assert [r["slug"] for r in body["results"]] == ["moonlit-blade"]
    [warning] = body["warnings"]
    assert warning["site"] == "sto" and warning["code"] == "site_blocking" and warning["retry_at"]
    assert "DDoS-Guard" in warning["message"]


def test_a_partial_answer_is_not_cached(auth_client, fake_catalog):
    fake_catalog.set_scenario(fail_times=4, fail_status=502, fail_prefix="/sto/")
    body = auth_client.get("/api/search", {"q": "harbor"}).json()
    assert body["results"] == [] and body["warnings"][0]["code"] == "site_unavailable"
    body = auth_client.get("/api/search", {"q": "harbor"}).json()  # the next request asks again
    assert body["warnings"] == [] and body["results"][0]["slug"] == "harbor-lights"


def test_every_site_blocking_is_503_with_retry_time(auth_client, fake_catalog):
    fake_catalog.set_scenario(captcha_prefix="/")
    response = auth_client.get("/api/search", {"q": "moon"})
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "site_blocking" and error["details"]["retry_at"]
    assert int(response["Retry-After"]) > 60
    assert {w["site"] for w in error["details"]["warnings"]} == {"aniworld", "sto"}


def test_every_site_failing_is_503(auth_client, fake_catalog):
    fake_catalog.set_scenario(fail_times=100, fail_status=500)
    response = auth_client.get("/api/search", {"q": "moon"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "catalog_unavailable"


def test_search_is_documented(auth_client):
    schema = auth_client.get("/api/schema", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "/api/search" in text and "SearchResponse" in text
