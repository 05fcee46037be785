"""Search results: covers through the server, and which results are in the library already."""

from __future__ import annotations

import pytest

from apps.library import services as library

pytestmark = pytest.mark.django_db


def test_library_lists_only_the_given_references(auth_client, fake_catalog, tmp_path, settings):
    settings.DEFAULT_LIBRARY_DIR = tmp_path
    series = library.add_series("aniworld", "moonlit-blade")
    response = auth_client.get("/api/anime", {"references": "aniworld:moonlit-blade,sto:harbor-lights"})
    assert response.status_code == 200, response.content
    assert [(entry["id"], entry["site"], entry["slug"]) for entry in response.json()["results"]] == [
        (series.pk, "aniworld", "moonlit-blade")
    ]
    assert auth_client.get("/api/anime", {"references": ""}).json()["results"] == []
    assert auth_client.get("/api/anime", {"references": "nowhere:x"}).status_code == 400


def test_cover_comes_through_the_server_or_a_placeholder(auth_client, fake_catalog):
    results = auth_client.get("/api/search", {"q": "moon", "site": "aniworld"}).json()["results"]
    cover_url = next(result["cover_url"] for result in results if result["slug"] == "moonlit-blade")
    response = auth_client.get("/api/search/cover", {"url": cover_url})
    assert response.status_code == 200 and response["Content-Type"].startswith("image/png")
    assert response.content.startswith(b"\x89PNG")
    asked = fake_catalog.requests_to("/aw/public/img/cover/")
    again = auth_client.get("/api/search/cover", {"url": cover_url})  # cached: the site is not asked twice
    assert again.content == response.content
    assert fake_catalog.requests_to("/aw/public/img/cover/") == asked == 1
    elsewhere = auth_client.get("/api/search/cover", {"url": "https://example.com/x.png"})
    assert elsewhere.status_code == 200 and elsewhere["Content-Type"] == "image/svg+xml"
