"""/health shows only its status to strangers; HTTPS behind a proxy: Secure cookies, HSTS, forwarded scheme."""

from __future__ import annotations

import io
import ipaddress
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from apps.web import views

PROJECT_DIR = Path(__file__).resolve().parents[2]
HEALTHY = {"status": "ok", "failing": [], "checks": {"database": {"ok": True, "detail": "postgresql", "data": {}}}}
UNHEALTHY = {
    "status": "unhealthy",
    "failing": ["workers"],
    "checks": {"workers": {"ok": False, "detail": "no Celery worker answered a ping", "data": {"count": 0}}},
}


@pytest.fixture
def report(monkeypatch):
    current = {"value": HEALTHY}
    monkeypatch.setattr(views, "run_checks", lambda **_options: current["value"])
    return current


@pytest.mark.parametrize(("checks", "status", "word"), [(HEALTHY, 200, "ok"), (UNHEALTHY, 503, "unhealthy")])
def test_anonymous_health_shows_only_the_status(client, db, report, checks, status, word):
    report["value"] = checks
    response = client.get("/health")
    assert response.status_code == status
    assert response.json() == {"status": word}


def test_the_owner_sees_the_details_with_a_session_or_a_token(client, owner, owner_password, auth_client, report):
    report["value"] = UNHEALTHY
    assert auth_client.get("/health").json()["failing"] == ["workers"]
    client.post("/api/auth/login", {"password": owner_password}, content_type="application/json")
    assert client.get("/health").json()["checks"]["workers"]["detail"].startswith("no Celery worker")


def test_a_bad_token_gets_the_anonymous_answer_not_an_error(client, owner, report):
    response = client.get("/health", HTTP_AUTHORIZATION="Bearer not.a.token")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_details_for_everyone_when_configured(client, db, report, settings):
    settings.HEALTH_DETAILS = "everyone"
    assert client.get("/health").json()["checks"]["database"]["ok"] is True


def test_forwarded_scheme_is_believed_only_from_a_trusted_proxy(client, db, report, settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.1/32")]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    via_proxy = client.get("/health", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    assert via_proxy["Strict-Transport-Security"] == "max-age=3600"
    direct = client.get("/health", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_PROTO="https")
    assert "Strict-Transport-Security" not in direct


def _settings_in_fresh_process(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    code = (
        "import json; from django.conf import settings as s; import django; django.setup();"
        "print(json.dumps({'proxy': s.SECURE_PROXY_SSL_HEADER, 'session': s.SESSION_COOKIE_SECURE,"
        "'csrf': s.CSRF_COOKIE_SECURE, 'hsts': s.SECURE_HSTS_SECONDS, 'details': s.HEALTH_DETAILS}))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "TRUSTED_PROXIES"}}
    clean.update({"ANIWORLD_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "aniworld_site.settings", **env})
    return subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, env=clean, capture_output=True, text=True, check=False
    )


def _values(tmp_path: Path, **env: str) -> dict:
    out = _settings_in_fresh_process(tmp_path, **env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_https_settings_default_to_plain_http(tmp_path):
    values = _values(tmp_path)
    assert values == {"proxy": None, "session": False, "csrf": False, "hsts": 0, "details": "owner"}


def test_behind_https_turns_on_secure_cookies_hsts_and_the_forwarded_scheme(tmp_path):
    values = _values(tmp_path, BEHIND_HTTPS="true", TRUSTED_PROXIES="172.16.0.0/12")
    assert values["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["session"] is True and values["csrf"] is True
    assert values["hsts"] == 31536000
    assert _values(tmp_path, BEHIND_HTTPS="yes", HSTS_SECONDS="0")["hsts"] == 0


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BEHIND_HTTPS", "maybe", "yes/no"),
        ("HSTS_SECONDS", "a year", "whole number"),
        ("HEALTH_DETAILS", "all", "owner"),
    ],
)
def test_https_and_health_settings_are_parsed_strictly(tmp_path, name, value, message):
    out = _settings_in_fresh_process(tmp_path, **{name: value})
    assert out.returncode != 0 and message.lower() in out.stderr.lower()


def test_the_access_log_never_shows_query_strings():
    from aniworld_site.webserver import RedactedAccessLog

    stream = io.StringIO()
    log = RedactedAccessLog(stream)
    log(
        "http",
        "complete",
        {"client": "1.2.3.4:5", "method": "GET", "path": "/api/x?token=abc&q=1", "status": 200, "size": 9},
    )
    log("websocket", "connecting", {"client": "1.2.3.4:5", "path": "/ws/connect?token=abc"})
    log("http", "complete", {"client": "1.2.3.4:5", "method": "GET", "path": "/health", "status": 200, "size": 9})
    text = stream.getvalue()
    assert "abc" not in text and "q=1" not in text
    assert '"GET /api/x?[redacted]" 200 9' in text and "WSCONNECTING /ws/connect?[redacted]" in text
    assert '"GET /health" 200' in text
    assert datetime.now().strftime("%Y") in text


def test_the_web_server_runs_with_the_redacting_access_log(tmp_path):
    from aniworld_site.stack import Stack

    argv = Stack(data_dir=tmp_path).web_argv(8123)
    assert argv[1:3] == ["-m", "aniworld_site.webserver"]
