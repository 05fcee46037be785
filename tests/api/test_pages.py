"""Every dashboard page renders for the owner and asks anyone else to log in."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

PAGES = ["/", "/library", "/library/1", "/search"]


@pytest.fixture
def owner_browser(client, owner, owner_password):
    client.post("/api/auth/login", {"password": owner_password}, content_type="application/json")
    return client


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_for_owner(owner_browser, path):
    response = owner_browser.get(path)
    assert response.status_code == 200
    assert b"js/api.js" in response.content


@pytest.mark.parametrize("path", PAGES)
def test_page_needs_login(client, owner, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login?next=")


def test_pages_never_load_from_a_cdn(owner_browser):
    for path in PAGES:
        body = owner_browser.get(path).content.decode()
        assert "https://" not in body.replace("https://aniworld.to", "")
