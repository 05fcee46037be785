"""Why nothing happens: each catalog site's state, each waiting item's reason, and "try now" (against the fake site)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.catalog import blocks
from apps.catalog.types import Site
from apps.queue import services
from apps.queue.models import DownloadItem, QueueControl

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(auth_client, library, sent, fake_catalog):
    yield auth_client
    for site in Site:
        blocks.forget(site)


def sites(api) -> dict[str, dict]:
    response = api.get("/api/catalog/sites")
    assert response.status_code == 200, response.content
    return {entry["site"]: entry for entry in response.json()["sites"]}


def wait_for_site(item_id: int, site: str, minutes: int = 20):
    """What the queue records when a worker meets a block (services.fail_attempt, BLOCKING)."""
    until = timezone.now() + timedelta(minutes=minutes)
    DownloadItem.objects.filter(pk=item_id).update(next_attempt_at=until, last_error="aniworld.to is blocking us")
    QueueControl.objects.filter(pk=QueueControl.ROW_ID).update(blocked_sites={site: until.isoformat()})
    return until


def test_sites_are_reachable_until_a_check_meets_a_block(api, fake_catalog):
    states = sites(api)
    assert states["aniworld"]["state"] == "reachable" and states["sto"]["state"] == "reachable"
    assert states["aniworld"]["label"] == "aniworld.to" and states["aniworld"]["retry_at"] is None

    fake_catalog.set_scenario(block_prefix="/aw/")
    response = api.post("/api/queue/sites/aniworld/try-now")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["site"]["state"] == "blocked" and body["site"]["checked"] and body["site"]["retry_at"]
    assert body["released"] == []
    states = sites(api)
    assert states["aniworld"]["state"] == "blocked" and states["aniworld"]["retry_at"]  # remembered for everyone
    assert states["sto"]["state"] == "reachable"


def test_not_configured_site(api, monkeypatch):
    monkeypatch.setenv("ANIWORLD_STO_URL", "ftp://nowhere")
    assert sites(api)["sto"]["state"] == "not_configured"


def test_unknown_site_is_404(api):
    assert api.post("/api/queue/sites/nowhere/try-now").status_code == 404


def test_waiting_item_names_its_site_and_try_now_releases_it(api, fake_catalog, make_episodes):
    first, second = make_episodes(2)
    services.pause_queue()
    queued = [item["id"] for item in services.enqueue_episodes([first.pk, second.pk])["queued"]]
    until = wait_for_site(queued[0], "aniworld")
    DownloadItem.objects.filter(pk=queued[1]).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    QueueControl.objects.filter(pk=QueueControl.ROW_ID).update(blocked_sites={})

    pending = {item["id"]: item for item in api.get("/api/queue/status").json()["pending"]}
    assert pending[queued[0]]["wait"]["kind"] == "retry"
    wait_for_site(queued[0], "aniworld")
    pending = {item["id"]: item for item in api.get("/api/queue/status").json()["pending"]}
    for item_id in queued:  # the block holds every item of that site
        wait = pending[item_id]["wait"]
        assert wait["kind"] == "site_blocked" and wait["site"] == "aniworld"
        assert wait["message"] == f"aniworld.to is blocking us, next try {until:%H:%M} UTC"

    fake_catalog.set_scenario(block_prefix="/aw/")
    body = api.post("/api/queue/sites/aniworld/try-now").json()
    assert body["site"]["state"] == "blocked" and body["released"] == []  # still blocked: nothing changes
    assert DownloadItem.objects.get(pk=queued[0]).next_attempt_at is not None

    fake_catalog.set_scenario(block_prefix=None)
    body = api.post("/api/queue/sites/aniworld/try-now").json()
    assert body["site"]["state"] == "reachable" and body["site"]["checked"]
    assert sorted(body["released"]) == sorted(queued)
    assert QueueControl.objects.get().blocked_sites == {}
    assert all(item.next_attempt_at is None for item in DownloadItem.objects.filter(pk__in=queued))
    assert sites(api)["aniworld"]["state"] == "reachable"
    pending = {item["id"]: item for item in api.get("/api/queue/status").json()["pending"]}
    assert all(pending[item_id]["wait"] is None for item_id in queued)
