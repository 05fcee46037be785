"""Owner setup, login, logout and status through the API."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_before_setup_api_answers_setup_required(api_client):
    response = api_client.get("/api/queue/status")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "setup_required"


def test_before_setup_pages_redirect_to_setup(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/setup"
    assert client.get("/setup").status_code == 200


def test_setup_creates_owner_with_bcrypt_hash(api_client, owner_password):
    response = api_client.post("/api/auth/setup", {"password": owner_password}, format="json")
    assert response.status_code == 201
    owner = get_user_model().objects.get()
    assert owner.is_superuser and owner.is_staff
    assert owner.password.startswith("bcrypt_sha256$")


def test_setup_refuses_weak_password_with_reasons(api_client):
    response = api_client.post("/api/auth/setup", {"password": "short"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "weak_password"
    assert any("12 characters" in p for p in error["details"]["problems"])
    assert not get_user_model().objects.exists()


def test_setup_twice_is_a_conflict(api_client, owner, owner_password):
    response = api_client.post("/api/auth/setup", {"password": owner_password}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "setup_complete"


def test_login_returns_token_that_authenticates(api_client, owner, owner_password):
    response = api_client.post("/api/auth/login", {"password": owner_password}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_at"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    status = api_client.get("/api/auth/status").json()
    assert status == {"setup_complete": True, "authenticated": True, "username": "owner", "auth_method": "token"}


def test_login_also_starts_a_browser_session(client, owner, owner_password):
    response = client.post("/api/auth/login", {"password": owner_password}, content_type="application/json")
    assert response.status_code == 200
    assert client.get("/").status_code == 200


def test_wrong_password_is_401_with_attempts_left(api_client, owner):
    response = api_client.post("/api/auth/login", {"password": "Wrong-Password-1"}, format="json")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "invalid_credentials"
    assert error["details"]["attempts_left_before_lockout"] == 4


def test_logout_revokes_the_token_at_once(auth_client):
    assert auth_client.get("/api/auth/status").json()["authenticated"] is True
    assert auth_client.post("/api/auth/logout").status_code == 204
    response = auth_client.post("/api/auth/logout")
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]


def test_browser_logout_revokes_tokens_from_the_same_login(client, owner, owner_password):
    token = client.post("/api/auth/login", {"password": owner_password}, content_type="application/json").json()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token['access_token']}")
    assert api.get("/api/auth/status").json()["authenticated"] is True
    csrf_client = client
    csrf_client.post("/api/auth/logout")
    assert api.get("/api/auth/status").status_code == 401


def test_garbage_token_is_401_json(api_client, owner):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    response = api_client.get("/api/auth/status")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_sixth_rapid_login_is_throttled(api_client, owner):
    codes = [
        api_client.post("/api/auth/login", {"password": f"Wrong-Password-{i}"}, format="json").status_code
        for i in range(6)
    ]
    assert codes[:4] == [401] * 4
    assert codes[5] == 429


def test_lockout_survives_a_correct_password(api_client, owner, owner_password, settings):
    settings.AUTH_THROTTLE_RATE = "100/min"
    for i in range(5):
        api_client.post("/api/auth/login", {"password": f"Wrong-Password-{i}"}, format="json")
    response = api_client.post("/api/auth/login", {"password": owner_password}, format="json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"
    assert int(response["Retry-After"]) > 0


def test_forwarded_for_is_ignored_without_trusted_proxy(api_client, owner):
    for i in range(6):
        response = api_client.post(
            "/api/auth/login", {"password": "Wrong-Pass-1!"}, format="json", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}"
        )
    assert response.status_code == 429  # all six counted against 127.0.0.1


def test_forwarded_for_is_used_behind_trusted_proxy(api_client, owner, settings):
    import ipaddress

    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    for i in range(6):
        response = api_client.post(
            "/api/auth/login", {"password": "Wrong-Pass-1!"}, format="json", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}"
        )
        assert response.status_code == 401  # each forwarded client is counted on its own


def test_admin_login_uses_the_owner_login_page(client, owner):
    response = client.get("/admin/")
    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert follow.status_code == 302
    assert follow["Location"].startswith("/login?next=/admin/")


def test_owner_session_opens_admin(client, owner, owner_password):
    client.post("/api/auth/login", {"password": owner_password}, content_type="application/json")
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    "header", ["Bearer not.a.token", "Bearer a b", "Bearer eyJhbGciOiJub25lIn0.eyJ1c2VyX2lkIjoxfQ."]
)
def test_bad_token_401_message_is_a_sentence_not_a_repr(api_client, owner, header):
    response = api_client.get("/api/auth/status", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    message = response.json()["error"]["message"]
    assert "ErrorDetail" not in message and "{" not in message, message
    assert message[0].isupper() and message.endswith("."), message


def test_malformed_authorization_header_says_what_is_expected(api_client, owner):
    response = api_client.get("/api/auth/status", HTTP_AUTHORIZATION="Bearer a b")
    assert response.status_code == 401
    assert "Authorization header must be 'Bearer <token>'" in response.json()["error"]["message"]
