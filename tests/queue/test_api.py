"""The queue API contract: shapes, status codes and JSON errors."""

from __future__ import annotations

import pytest

from apps.queue import services
from apps.queue.models import DownloadItem, ItemState

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(auth_client, library, sent):
    return auth_client


def add(api, episode_ids, **extra):
    return api.post("/api/queue/add", {"episode_ids": episode_ids, **extra}, format="json")


def assert_error(response, status: int, code: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_authentication_is_required(api_client, owner):
    for method, path in [("get", "/api/queue/status"), ("post", "/api/queue/start"), ("delete", "/api/queue/1")]:
        assert_error(getattr(api_client, method)(path), 401, "not_authenticated")


def test_add_reports_queued_and_skipped(api, make_episodes):
    first, second = make_episodes(2)
    api.post("/api/queue/pause")
    response = add(api, [first.pk, second.pk], priority="high", language="de-sub")
    assert response.status_code == 201
    body = response.json()
    assert [item["episode_id"] for item in body["queued"]] == [first.pk, second.pk]
    assert body["queued"][0]["priority"] == "high" and body["queued"][0]["language"] == "de-sub"
    again = add(api, [first.pk, 424242])
    assert again.status_code == 200
    assert again.json()["queued"] == []
    assert {entry["episode_id"] for entry in again.json()["skipped"]} == {first.pk, 424242}


@pytest.mark.parametrize(
    "payload",
    [{}, {"episode_ids": []}, {"episode_ids": ["x"]}, {"episode_ids": [1], "priority": "urgent"}, {"episode_ids": 5}],
)
def test_add_validates_input(api, payload):
    error = assert_error(api.post("/api/queue/add", payload, format="json"), 400, "invalid")
    assert error["details"]


def test_malformed_json_is_a_400(api):
    response = api.generic("POST", "/api/queue/add", "{not json", content_type="application/json")
    assert_error(response, 400, "malformed_request")


def test_status_and_stats(api, make_episodes):
    api.post("/api/queue/pause")
    item_ids = [item["id"] for item in add(api, [episode.pk for episode in make_episodes(3)]).json()["queued"]]
    DownloadItem.objects.filter(pk=item_ids[0]).update(state=ItemState.FAILED, last_error="HTTP 404")
    status = api.get("/api/queue/status").json()
    assert status["state"] == "paused"
    assert [item["id"] for item in status["pending"]] == item_ids[1:]
    assert [item["id"] for item in status["failed"]] == item_ids[:1]
    assert status["active"] == [] and status["completed"] == []
    assert status["stats"]["counts"]["pending"] == 2
    stats = api.get("/api/queue/stats").json()
    assert stats["total"] == 3 and stats["success_rate"] == 0.0
    assert_error(api.get("/api/queue/status?limit=0"), 400)


def test_unknown_ids_are_404(api):
    assert_error(api.delete("/api/queue/999"), 404, "not_found")
    assert_error(api.get("/api/queue/999"), 404, "not_found")
    assert_error(api.post("/api/queue/999/priority", {"priority": "low"}, format="json"), 404)
    assert_error(api.post("/api/queue/reorder", {"item_id": 999, "new_position": 0}, format="json"), 404)
    assert_error(api.post("/api/queue/retry", {"ids": [999]}, format="json"), 404)
    assert_error(api.delete("/api/queue/", {"ids": [999]}, format="json"), 404)


def test_start_stop_pause_resume_are_idempotent(api):
    for action, state in [("stop", "stopped"), ("stop", "stopped"), ("pause", "paused"), ("resume", "running")]:
        response = api.post(f"/api/queue/{action}")
        assert response.status_code == 200 and response.json()["state"] == state
    first = api.post("/api/queue/start").json()
    assert first["changed"] is False and first["state"] == "running"


def test_reorder_priority_delete_retry_and_clear(api, make_episodes):
    api.post("/api/queue/pause")
    a, b, c = (item["id"] for item in add(api, [episode.pk for episode in make_episodes(3)]).json()["queued"])
    response = api.post("/api/queue/reorder", {"item_id": c, "new_position": 0}, format="json")
    assert response.json() == {"item_id": c, "order": [c, a, b]}
    assert_error(api.post("/api/queue/reorder", {"item_id": c, "new_position": -1}, format="json"), 400)

    response = api.post(f"/api/queue/{b}/priority", {"priority": "high"}, format="json")
    assert response.status_code == 200 and response.json()["priority"] == "high"
    assert_error(api.post(f"/api/queue/{b}/priority", {"priority": "asap"}, format="json"), 400)

    assert api.delete(f"/api/queue/{a}").json() == {"removed": [a], "cancelled": []}
    assert_error(api.post("/api/queue/reorder", {"item_id": a, "new_position": 0}, format="json"), 404)

    DownloadItem.objects.filter(pk=b).update(state=ItemState.FAILED)
    assert api.post("/api/queue/retry", {}, format="json").json()["retried"] == [b]
    DownloadItem.objects.filter(pk=b).update(state=ItemState.COMPLETED)
    assert api.delete("/api/queue/completed").json() == {"deleted": 1}
    assert api.delete("/api/queue/", {"ids": [c]}, format="json").json() == {"removed": [c], "cancelled": []}
    assert_error(api.delete("/api/queue/", {"ids": []}, format="json"), 400)
    assert not DownloadItem.objects.exists()


def test_delete_of_an_active_item_cancels_it(api, make_episodes):
    (item,) = add(api, [make_episodes(1)[0].pk]).json()["queued"]
    assert DownloadItem.objects.get(pk=item["id"]).state == ItemState.QUEUED
    assert api.delete(f"/api/queue/{item['id']}").json() == {"removed": [], "cancelled": [item["id"]]}
    assert api.get(f"/api/queue/{item['id']}").json()["state"] == "cancelled"


def test_hold_and_release_endpoints(api, make_episodes):
    api.post("/api/queue/pause")
    (item,) = add(api, [make_episodes(1)[0].pk]).json()["queued"]
    assert api.post(f"/api/queue/{item['id']}/pause").json()["state"] == "paused"
    assert api.post(f"/api/queue/{item['id']}/resume").json()["state"] == "pending"
    services.cancel_item(item["id"])
    assert_error(api.post(f"/api/queue/{item['id']}/pause"), 409)


def test_endpoints_are_documented(api):
    schema = api.get("/api/schema", HTTP_ACCEPT="application/json").json()
    paths = set(schema["paths"])
    for path in ["/api/queue/status", "/api/queue/stats", "/api/queue/add", "/api/queue/reorder", "/api/queue/retry"]:
        assert path in paths
    assert "/api/queue/{id}/priority" in paths
