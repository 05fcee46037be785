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
    assert b"web/api.js" in response.content


@pytest.mark.parametrize("path", PAGES)
def test_page_needs_login(client, owner, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login?next=")


def test_pages_never_load_from_a_cdn(owner_browser):
    for path in PAGES:
        body = owner_browser.get(path).content.decode()
        assert "https://" not in body.replace("https://aniworld.to", "")


def test_reloading_setup_after_the_password_step_returns_to_step_two(owner_browser):
    response = owner_browser.get("/setup")
    assert response.status_code == 200
    assert b'<section id="setup-step-library">' in response.content  # shown, not hidden


def test_setup_page_leads_home_once_the_wizard_is_done(owner_browser, tmp_path):
    done = owner_browser.post(
        "/api/setup", {"library_path": str(tmp_path), "language_preference": ["de"]}, content_type="application/json"
    )
    assert done.status_code in (200, 201), done.content
    response = owner_browser.get("/setup")
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_settings_page_is_routed(owner_browser):
    assert owner_browser.get("/settings").status_code == 200
