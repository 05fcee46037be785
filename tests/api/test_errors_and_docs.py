"""Every /api/ error has one JSON shape; pages get HTML; the schema and docs are served."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert error["message"]
    return error


def test_unknown_api_path_is_json_404(auth_client):
    assert_error(auth_client.get("/api/does-not-exist"), 404, "not_found")


def test_wrong_method_is_json_405(auth_client):
    assert_error(auth_client.get("/api/auth/login"), 405, "method_not_allowed")


def test_malformed_json_is_400(api_client, owner):
    response = api_client.post("/api/auth/login", data='{"password": ', content_type="application/json")
    assert_error(response, 400, "malformed_request")


def test_missing_field_is_400_with_field_details(api_client, owner):
    error = assert_error(api_client.post("/api/auth/login", {}, format="json"), 400, "invalid")
    assert "password" in error["details"]


def test_wrong_content_type_is_415(api_client, owner):
    response = api_client.post("/api/auth/login", data="password=x", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")


def test_unauthenticated_api_call_is_401(api_client, owner):
    error = assert_error(api_client.get("/api/schema"), 401, "not_authenticated")
    assert "Log in" in error["message"]


def test_crash_in_api_is_json_500(owner, rf):
    from aniworld_site.errors import server_error

    response = server_error(rf.get("/api/anything"))
    assert response.status_code == 500
    import json

    assert json.loads(response.content)["error"]["code"] == "internal_error"


def test_unknown_page_is_html_404(client, owner, owner_password):
    client.post("/api/auth/login", {"password": owner_password}, content_type="application/json")
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_pages_need_login_after_setup(client, owner):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login?next=%2F"


def test_schema_and_docs_for_logged_in_owner(auth_client, client, owner_password):
    schema = auth_client.get("/api/schema?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/auth/login" in paths and "/api/auth/logout" in paths
    client.post("/api/auth/login", {"password": owner_password}, content_type="application/json")
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_openapi_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/queue/status" in (tmp_path / "schema.yaml").read_text()
