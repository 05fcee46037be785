"""GET /api/dashboard: disk space, library totals, workers by node with what each runs, catalog sites."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.library.models import EpisodeState
from apps.queue import heartbeats, services
from apps.queue.models import DownloadItem

pytestmark = pytest.mark.django_db(transaction=True)


def record(name: str, node_name: str, item_ids: list[int]) -> dict:
    return {
        "name": name,
        "node": node_name,
        "version": "0.1.0",
        "pid": 42,
        "concurrency": 2,
        "active": [{"item_id": item_id, "task_id": "t"} for item_id in item_ids],
        "reserved": [],
        "library": {"path": "/library", "free_bytes": 1, "total_bytes": 2},
        "stopping": False,
        "started_at": timezone.now().isoformat(),
        "last_seen": timezone.now().isoformat(),
        "interval_seconds": 5.0,
    }


def test_dashboard_overview(auth_client, library, sent, make_episodes):
    episodes = make_episodes(5)
    present, upgradable, ignored, _missing, downloading = episodes
    present.__class__.objects.filter(pk=present.pk).update(
        state=EpisodeState.PRESENT, file_path="a.mkv", file_language="de", languages_available=["de", "de-sub"]
    )
    present.__class__.objects.filter(pk=upgradable.pk).update(
        state=EpisodeState.PRESENT, file_path="b.mkv", file_language="en-sub", languages_available=["de", "en-sub"]
    )
    present.__class__.objects.filter(pk=ignored.pk).update(state=EpisodeState.IGNORED)
    item_id = services.enqueue_episodes([downloading.pk])["queued"][0]["id"]
    DownloadItem.objects.filter(pk=item_id).update(bytes_done=50, bytes_total=200, state="downloading")
    heartbeats.publish(record("aniworld@nas-2-1-9", "nas-2", [item_id]))
    heartbeats.publish(record("aniworld@nas-1-1-9", "nas-1", []))

    response = auth_client.get("/api/dashboard")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["library"] == {
        "series": 1,
        "episodes": 5,
        "present": 2,
        "missing": 1,  # `missing`; the queued one is not missing any more
        "ignored": 1,
        "upgradable": 1,
    }
    assert body["disk"]["free_bytes"] > 0 and body["disk"]["total_bytes"] >= body["disk"]["free_bytes"]
    assert [node["node"] for node in body["nodes"]] == ["nas-1", "nas-2"]
    assert body["nodes"][0]["workers"][0]["doing"] == []
    doing = body["nodes"][1]["workers"][0]["doing"]
    assert doing[0]["item_id"] == item_id and doing[0]["progress_percent"] == 25.0 and doing[0]["label"]
    assert body["workers_error"] is None
    assert {site["site"]: site["state"] for site in body["sites"]} == {"aniworld": "reachable", "sto": "reachable"}
    for worker in ("aniworld@nas-2-1-9", "aniworld@nas-1-1-9"):
        heartbeats.forget(worker)


def test_dashboard_needs_login(api_client, owner):
    assert api_client.get("/api/dashboard").status_code == 401
