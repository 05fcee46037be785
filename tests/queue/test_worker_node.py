"""A worker node: its download worker ids, its clean stop, its heartbeat and what /health and the API make of it."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.queue import heartbeats, selectors, services
from apps.queue.models import DownloadItem, ItemState
from workers import node

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_worker_ids_carry_the_node_name(settings):
    settings.NODE_NAME = "nas-2"
    worker_id = node.worker_identity("0123456789abcdef")
    name, pid, task = worker_id.split(":")
    assert name == "nas-2" and int(pid) > 0 and task == "0123456789ab"


def test_release_for_shutdown_touches_only_that_workers_item(make_episodes, sent):
    first, second = make_episodes(2)
    ids = [item["id"] for item in services.enqueue_episodes([first.pk, second.pk])["queued"]]
    for item_id, worker in zip(ids, ("nas-1:10:aaa", "nas-1:11:bbb"), strict=True):
        item = DownloadItem.objects.get(pk=item_id)
        assert services.acquire_lease(item_id, item.task_id, worker)

    assert services.release_for_shutdown("nas-1:10:aaa") == [ids[0]]
    assert DownloadItem.objects.get(pk=ids[0]).state == ItemState.PENDING
    assert DownloadItem.objects.get(pk=ids[1]).state == ItemState.DOWNLOADING
    assert services.release_for_shutdown("nas-1:10:aaa") == []


def _record(name: str, node_name: str = "nas-1") -> dict:
    return {
        "name": name,
        "node": node_name,
        "version": "0.1.0",
        "pid": 42,
        "concurrency": 2,
        "active": [{"item_id": 7, "task_id": "t"}],
        "reserved": [],
        "library": {"path": "/library", "free_bytes": 1, "total_bytes": 2},
        "stopping": False,
        "started_at": timezone.now().isoformat(),
        "last_seen": timezone.now().isoformat(),
        "interval_seconds": 5.0,
    }


def test_heartbeats_are_listed_by_node_expire_and_are_forgotten(settings):
    settings.WORKER_HEARTBEAT_SECONDS = 2
    heartbeats.publish(_record("aniworld@nas-2-1-9", "nas-2"))
    heartbeats.publish(_record("aniworld@nas-1-1-9", "nas-1"))
    workers = selectors.live_workers()
    assert [worker["node"] for worker in workers] == ["nas-1", "nas-2"]
    assert workers[0]["active"] == [{"item_id": 7, "task_id": "t"}]
    assert 0 <= workers[0]["age_seconds"] < 5
    client = heartbeats.shared_redis()
    assert 0 < client.ttl(heartbeats.record_key("aniworld@nas-1-1-9")) <= 6  # three beats
    heartbeats.forget("aniworld@nas-2-1-9")
    assert [worker["name"] for worker in selectors.live_workers()] == ["aniworld@nas-1-1-9"]
    client.delete(heartbeats.record_key("aniworld@nas-1-1-9"))  # as if it expired: a dead worker disappears
    assert selectors.live_workers() == []


def test_the_worker_heartbeat_record_names_node_version_and_library_space(settings, library):
    settings.NODE_NAME = "nas-3"
    record = node.heartbeat_record("aniworld@nas-3-1-1", "2026-01-01T00:00:00+00:00", 3)
    assert record["node"] == "nas-3" and record["version"] == settings.VERSION
    assert record["active"] == [] and record["reserved"] == [] and record["concurrency"] == 3
    assert record["library"]["path"] == str(library) and record["library"]["free_bytes"] > 0


def test_health_answers_from_heartbeats_in_milliseconds(client, owner, owner_password):
    assert client.get("/health").status_code == 503  # no worker has reported
    client.post("/api/auth/login", {"password": owner_password}, content_type="application/json")  # details
    status = client.get("/health")
    assert status.status_code == 503
    assert status.json()["checks"]["workers"]["detail"].startswith("no Celery worker sent a heartbeat")

    heartbeats.publish(_record("aniworld@nas-1-1-9"))
    client.get("/health")  # warm up connections
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        response = client.get("/health")
        timings.append((time.perf_counter() - started) * 1000)
    print(f"/health: {min(timings):.1f}-{max(timings):.1f} ms over 5 calls")
    assert max(timings) < 50
    workers = response.json()["checks"]["workers"]
    assert workers["ok"] and workers["data"]["count"] == 1 and workers["data"]["nodes"] == ["nas-1"]
    assert "worker_ping" not in response.json()["checks"]


def test_deep_health_adds_a_real_ping_for_the_owner_only(client, owner, owner_password):
    heartbeats.publish(_record("aniworld@nas-1-1-9"))
    assert client.get("/health?deep=1").json() == {"status": "ok"}  # anonymous: the status only, no ping
    client.post("/api/auth/login", {"password": owner_password}, content_type="application/json")
    checks = client.get("/health?deep=1").json()["checks"]
    assert checks["worker_ping"]["ok"] is False  # no Celery worker runs in this test: the real ping says so


def test_workers_api_lists_the_live_workers_and_is_documented(auth_client, api_client):
    heartbeats.publish(_record("aniworld@nas-1-1-9"))
    assert api_client.get("/api/queue/workers").status_code == 401
    body = auth_client.get("/api/queue/workers").json()
    assert body["count"] == 1 and body["nodes"] == ["nas-1"]
    assert body["workers"][0]["library"]["free_bytes"] == 1
    schema = auth_client.get("/api/schema?format=json").json()
    assert "/api/queue/workers" in schema["paths"]
    assert "WorkerResponse" in schema["components"]["schemas"]


def test_the_heartbeat_says_at_once_that_a_clean_stop_began_and_is_gone_after_it(settings, library):
    settings.WORKER_HEARTBEAT_SECONDS = 30  # so only the stop itself can explain a second beat
    node.prepare_shutdown_flag()
    publisher = node.HeartbeatPublisher("aniworld@nas-1-1-7", 2)
    try:
        publisher.start()
        first = _wait_for_worker(lambda worker: worker is not None)
        assert first["stopping"] is False
        asked = time.monotonic()
        node.request_shutdown()
        _wait_for_worker(lambda worker: worker is not None and worker["stopping"])
        print(f"heartbeat reported the stop after {time.monotonic() - asked:.2f}s")
        assert time.monotonic() - asked < 2
    finally:
        publisher.stop()
        node._stop_flag = None
    assert selectors.live_workers() == []


def _wait_for_worker(predicate, timeout: float = 5) -> dict | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = selectors.live_workers()
        worker = workers[0] if workers else None
        if predicate(worker):
            return worker
        time.sleep(0.05)
    raise AssertionError("the heartbeat never showed it")


def test_the_heartbeat_lists_running_and_received_downloads_by_item_and_task(monkeypatch):
    from dataclasses import dataclass

    from celery.worker import state

    @dataclass(frozen=True)
    class FakeRequest:  # the three attributes of celery.worker.request.Request the heartbeat reads
        name: str
        args: tuple
        id: str

    running = FakeRequest(node.DOWNLOAD_TASK, (5,), "task-5")
    waiting = FakeRequest(node.DOWNLOAD_TASK, (9,), "task-9")
    other = FakeRequest("workers.downloads.dispatch_tick", (), "tick")
    monkeypatch.setattr(state, "active_requests", {running, other})
    monkeypatch.setattr(state, "reserved_requests", {running, waiting, other})
    assert node.active_downloads() == [{"item_id": 5, "task_id": "task-5"}]
    assert node.reserved_downloads() == [{"item_id": 9, "task_id": "task-9"}]


def test_one_worker_of_the_cluster_heals_the_queue_per_interval(settings, monkeypatch):
    from django.core.cache import cache

    settings.WORKER_HEARTBEAT_SECONDS = 2
    runs: list[str] = []
    monkeypatch.setattr(services, "heal", lambda: runs.append("healed") or {"requeued": [], "dispatched": []})
    cache.delete(node.HEAL_THROTTLE_KEY)
    first, second = node.QueueHealer("aniworld@nas-1-1-1"), node.QueueHealer("aniworld@nas-2-1-1")

    assert first.heal_once() is not None
    assert second.heal_once() is None, "the other node healed within this interval"
    assert runs == ["healed"]
    cache.delete(node.HEAL_THROTTLE_KEY)  # as if the interval passed
    assert second.heal_once() is not None
    assert runs == ["healed", "healed"]


def test_a_stopping_worker_does_not_heal(settings, monkeypatch):
    from django.core.cache import cache

    monkeypatch.setattr(services, "heal", lambda: pytest.fail("a stopping worker healed the queue"))
    cache.delete(node.HEAL_THROTTLE_KEY)
    node.prepare_shutdown_flag()
    try:
        node.request_shutdown()
        assert node.QueueHealer("aniworld@nas-1-1-1").heal_once() is None
    finally:
        node._stop_flag = None


def test_beat_is_not_needed_for_takeover(make_episodes, sent, settings):
    """A worker's healer alone reclaims an expired lease and dispatches the item again."""
    from django.core.cache import cache

    item_id = services.enqueue_episodes([make_episodes(1)[0].pk])["queued"][0]["id"]
    item = DownloadItem.objects.get(pk=item_id)
    assert services.acquire_lease(item_id, item.task_id, "nas-1:10:dead")
    DownloadItem.objects.filter(pk=item_id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    cache.delete(node.HEAL_THROTTLE_KEY)

    changed = node.QueueHealer("aniworld@nas-2-1-1").heal_once()

    assert changed is not None and changed["requeued"] == [item_id]
    assert DownloadItem.objects.get(pk=item_id).state == ItemState.QUEUED
