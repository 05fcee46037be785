"""The real stack, started the way `make run` starts it: health, owner login, logout, throttling."""

from __future__ import annotations

import httpx
import pytest

from tests.live import OWNER_PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_stack_serves_health_login_logout_and_throttles_across_processes(live_stack_factory):
    live = live_stack_factory(web_processes=2, workers=1)

    status, report = live.health()
    assert status == 200, report
    assert report["status"] == "ok"
    assert report["checks"]["workers"]["data"]["count"] >= 1
    assert report["checks"]["redis"]["ok"] and report["checks"]["database"]["ok"]
    assert report["checks"]["library"]["ok"] and report["checks"]["disk"]["data"]["free_bytes"] > 0

    # Before setup: pages lead to /setup, the API says so.
    assert httpx.get(live.url("/"), follow_redirects=False).headers["location"] == "/setup"
    assert httpx.get(live.url("/api/auth/status")).json()["setup_complete"] is False

    live.setup_owner()
    token = live.login(web=0)
    headers = {"Authorization": f"Bearer {token}"}
    for web in (0, 1):  # a token issued by process A works on process B
        response = httpx.get(live.url("/api/auth/status", web), headers=headers)
        assert response.json()["authenticated"] is True
        assert httpx.get(live.url("/api/schema?format=json", web), headers=headers).status_code == 200

    assert httpx.post(live.url("/api/auth/logout", 1), headers=headers).status_code == 204
    for web in (0, 1):  # revoked everywhere at once
        response = httpx.get(live.url("/api/schema?format=json", web), headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "authentication_failed"

    # Six rapid failed logins, alternating between the two web processes: the sixth is refused.
    codes = [
        httpx.post(live.url("/api/auth/login", i % 2), json={"password": f"Wrong-Guess-{i}"}).status_code
        for i in range(6)
    ]
    assert codes[0] == 401
    assert set(codes) <= {401, 429}
    assert codes[5] == 429
    locked = httpx.post(live.url("/api/auth/login", 1), json={"password": OWNER_PASSWORD})
    assert locked.status_code == 429  # even the right password waits out the lockout
    assert int(locked.headers["retry-after"]) > 0

    logs = live.data_dir / "logs"
    assert (logs / "app.log").exists() and (logs / "error.log").exists()
    everything_logged = "".join(p.read_text(errors="replace") for p in logs.glob("*.log"))
    everything_logged += live.log_path.read_text(errors="replace")
    assert OWNER_PASSWORD not in everything_logged
    assert token not in everything_logged

    live.stack.stop()
    for child in live.stack.children:
        assert child.process.returncode is not None
    assert "did not stop" not in live.log_path.read_text()


def test_health_names_the_failing_part(live_stack_factory):
    live = live_stack_factory(web_processes=1, workers=0, beat=False)
    status, report = live.health()
    assert status == 503
    assert report["status"] == "unhealthy"
    assert report["failing"] == ["workers"]
    assert "no Celery worker" in report["checks"]["workers"]["detail"]
