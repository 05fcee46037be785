"""One page convention: every app serves its pages from pages.py, templates/<app>/ and static/<app>/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE_APPS = sorted(path.parent for path in (ROOT / "apps").glob("*/pages.py"))


def test_pages_live_in_their_apps():
    assert {app.name for app in PAGE_APPS} >= {"web", "accounts", "library", "catalog", "configuration"}
    assert not (ROOT / "templates").exists(), "templates belong in apps/<app>/templates/<app>/"
    assert sorted(path.name for path in (ROOT / "static").iterdir()) == ["vendor"], (
        "only vendored files stay in static/"
    )
    for app in PAGE_APPS:
        assert (app / "templates" / app.name).is_dir(), app
        for template in (app / "templates").rglob("*.html"):
            assert template.relative_to(app / "templates").parts[0] in (app.name, "admin", "drf_spectacular"), template
        for script in (app / "static").rglob("*") if (app / "static").exists() else []:
            if script.is_file():
                assert script.relative_to(app / "static").parts[0] == app.name, script
    assert not list((ROOT / "apps").glob("*/page_urls.py"))


def test_templates_link_pages_by_name_not_by_path():
    for template in (ROOT / "apps").glob("*/templates/*/*.html"):
        hard_coded = re.findall(r'href="/(?!/)[^"{]*"', template.read_text())
        assert not hard_coded, f"{template.relative_to(ROOT)}: use {{% url %}} for {hard_coded}"


@pytest.mark.django_db
def test_the_shared_lists_reach_the_scripts_once(client, owner, owner_password):
    client.post("/api/auth/login", {"password": owner_password}, content_type="application/json")
    body = client.get("/library/1").content.decode()
    assert body.count('id="shared-lists"') == 1
    payload = re.search(r'<script id="shared-lists" type="application/json">(.*?)</script>', body, re.S).group(1)
    lists = json.loads(payload)
    assert lists["languages"]["de"] == "German Dub"
    assert list(lists["priorities"]) == ["high", "normal", "low"]
    assert "cancelled" in lists["item_states"]


@pytest.mark.django_db
def test_every_page_links_the_icon_and_favicon_ico_leads_to_it(client, owner, owner_password):
    client.post("/api/auth/login", {"password": owner_password}, content_type="application/json")
    for path in ("/", "/settings", "/admin/"):
        assert 'rel="icon" href="/static/web/favicon.svg"' in client.get(path).content.decode(), path
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/web/favicon.svg"


@pytest.mark.django_db
def test_the_dashboard_of_an_empty_library_says_what_to_do_first(client, owner, owner_password):
    from apps.library.models import Series

    client.post("/api/auth/login", {"password": owner_password}, content_type="application/json")
    assert 'id="first-run-hint"' in client.get("/").content.decode()
    Series.objects.create(site="aniworld", slug="moonlit-blade", title="Moonlit Blade")
    assert 'id="first-run-hint"' not in client.get("/").content.decode()
