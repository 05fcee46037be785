"""Every response carries a Content-Security-Policy without inline script; no template needs one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["/", "/library", "/library/1", "/search", "/settings", "/admin/", "/api/docs", "/api/docs?script="]
OTHER_RESPONSES = ["/api/queue/status", "/api/config", "/health", "/no-such-page", "/api/no-such-endpoint"]


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = [part.strip().split() for part in header.split(";") if part.strip()]
    return {name: values for name, *values in directives}


def assert_strict(response) -> None:
    directives = policy(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


@pytest.fixture
def owner_browser(client, owner, owner_password):
    client.post("/api/auth/login", {"password": owner_password}, content_type="application/json")
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("path", [*PAGES, *OTHER_RESPONSES])
def test_every_response_carries_the_policy(owner_browser, path):
    response = owner_browser.get(path)
    assert response.status_code != 500
    assert_strict(response)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/setup", "/login", "/", "/api/queue/status"])
def test_anonymous_responses_carry_it_too(client, path):
    assert_strict(client.get(path))


@pytest.mark.django_db
@pytest.mark.parametrize("path", [*PAGES[:5], "/login"])
def test_rendered_pages_hold_no_inline_script(client, owner, owner_password, path):
    if path != "/login":
        client.post("/api/auth/login", {"password": owner_password}, content_type="application/json")
    body = client.get(path).content.decode()
    for tag in re.findall(r"<script\b[^>]*>", body):
        assert "src=" in tag or 'type="application/json"' in tag, f"inline script on {path}: {tag}"
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", body), f"an on* handler attribute on {path}"
    assert not re.search(r"<[^>]+\sstyle\s*=", body), f"a style attribute on {path}"


def test_no_template_or_script_writes_inline_handlers_or_styles():
    for template in (ROOT / "apps").glob("*/templates/**/*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template
        assert not re.search(r"\son[a-z]+\s*=", text), template
        assert not re.search(r"\sstyle\s*=", text), template
    for script in (ROOT / "apps").glob("*/static/*/*.js"):
        text = script.read_text()
        assert not re.search(r"\bstyle:\s", text), f"{script}: a style attribute (use a class or element.style)"
        assert "innerHTML" not in text or "style=" not in text, script
