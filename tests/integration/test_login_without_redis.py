"""A real web process whose Redis was stopped: the owner still logs in, and the lockout still holds."""

from __future__ import annotations

import time

import httpx
import pytest

from aniworld_site.stack import free_port
from tests.live import OWNER_PASSWORD
from tests.services import start_redis_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test's own, so the test can stop it (the suite's Redis is shared)."""
    port = free_port()
    process = start_redis_server(port, str(tmp_path))
    yield process, f"redis://127.0.0.1:{port}/0"
    if process.poll() is None:
        process.kill()
        process.wait()


def test_login_and_lockout_while_redis_is_down(live_stack_factory, own_redis):
    redis, redis_url = own_redis
    live = live_stack_factory(web_processes=1, workers=0, beat=False, extra_env={"REDIS_URL": redis_url})
    live.setup_owner()
    redis.terminate()
    redis.wait(timeout=10)

    started = time.monotonic()
    live.login()  # 200, not a 500
    print(f"login with Redis down took {time.monotonic() - started:.2f} s")
    codes = [httpx.post(live.url("/api/auth/login"), json={"password": f"Wrong-{i}"}).status_code for i in range(5)]
    assert codes == [401, 401, 401, 401, 429]
    locked = httpx.post(live.url("/api/auth/login"), json={"password": OWNER_PASSWORD})
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "locked_out"

    assert "Cleared" in live.manage("unlock").stdout
    live.login()
    status, report = live.health()
    assert status == 503 and "redis" in report["failing"]
    assert "Internal Server Error" not in live.log_path.read_text(errors="replace")
