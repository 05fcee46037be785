"""PostgreSQL under daphne: requests reuse pooled connections instead of opening one each."""

from __future__ import annotations

import psycopg
import pytest

from tests.live import LiveStack, _admin_postgres_url

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not _admin_postgres_url(), reason="the connection pool is for PostgreSQL"),
]

REQUESTS = 40


def sessions_opened(live: LiveStack) -> int:
    """Connections PostgreSQL has accepted for the stack's database so far (pg_stat_database.sessions)."""
    url = live.env["DATABASE_URL"].replace("postgres://", "postgresql://")
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(_admin_postgres_url().replace("postgres://", "postgresql://"), autocommit=True) as admin:
        admin.execute("SELECT pg_stat_clear_snapshot()")
        row = admin.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", [name]).fetchone()
    return int(row[0])


def test_requests_share_pooled_connections(live_stack_factory):
    live = live_stack_factory(web_processes=1, workers=1)
    live.setup_owner()
    token = live.login()
    with live.client(headers={"Authorization": f"Bearer {token}"}) as client:
        assert client.get("/api/queue/stats").status_code == 200  # the pool is open from here on
        before = sessions_opened(live)
        for _ in range(REQUESTS):
            assert client.get("/api/queue/stats").status_code == 200
            assert client.get("/api/queue/status?limit=5").status_code == 200
        after = sessions_opened(live)
    assert after - before < 10, f"{after - before} new connections for {2 * REQUESTS} requests"
    status, body = live.health()
    assert status == 200 and body["checks"]["workers"]["data"]["count"] >= 1, body  # workers run with the pool too
