"""The queue state machine, the dispatcher and the worker-side services, on the real database."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.library.models import Episode, EpisodeState
from apps.queue import services
from apps.queue.errors import InvalidQueueRequest, ItemNotFound
from apps.queue.models import DownloadItem, ItemState, Priority, QueueControl
from workers.engine import Failure, FailureKind, incoming_dir

pytestmark = pytest.mark.django_db(transaction=True)

# The SQLite test database is in memory with a shared cache, whose table locks ignore busy_timeout, so
# threads cannot race there the way processes race on a file database; these run on PostgreSQL, and
# test_sqlite_races.py races real processes on a SQLite file on every backend.
needs_postgres = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="thread races need PostgreSQL (the SQLite test database is in-memory with shared-cache locks)",
)


def ids(result) -> list[int]:
    return [item["id"] for item in result["queued"]]


def finish(item_id: int) -> None:
    """Let a worker claim and complete an item (what a download task does)."""
    item = DownloadItem.objects.get(pk=item_id)
    assert services.acquire_lease(item_id, item.task_id, "worker-a")
    assert services.complete_item(item_id, "worker-a", relative_path=f"done-{item_id}.mkv", size=10, language="de")


def claim(item_id: int, worker: str = "worker-a") -> DownloadItem:
    item = DownloadItem.objects.get(pk=item_id)
    claimed = services.acquire_lease(item_id, item.task_id, worker)
    assert claimed is not None
    return claimed


# --- adding ------------------------------------------------------------------------------------


def test_enqueue_reports_duplicates_present_ignored_and_unknown(make_episodes, library, sent):
    first, second, present, ignored = make_episodes(4)
    Episode.objects.filter(pk=present.pk).update(state=EpisodeState.PRESENT, file_path="x.mkv")
    Episode.objects.filter(pk=ignored.pk).update(state=EpisodeState.IGNORED)
    services.pause_queue()

    result = services.enqueue_episodes([first.pk, second.pk, first.pk, present.pk, ignored.pk, 999999], "high")

    assert [item["episode_id"] for item in result["queued"]] == [first.pk, second.pk]
    assert all(item["priority"] == "high" and item["state"] == "pending" for item in result["queued"])
    reasons = {entry["episode_id"]: entry["reason"] for entry in result["skipped"]}
    assert reasons == {
        present.pk: "already in the library",
        ignored.pk: "marked ignored in the library",
        999999: "unknown episode",
    }
    again = services.enqueue_episodes([first.pk])
    assert again["queued"] == []
    assert again["skipped"][0]["reason"].startswith("already in the queue")
    assert DownloadItem.objects.count() == 2
    assert Episode.objects.get(pk=first.pk).state == EpisodeState.QUEUED
    assert result["queued"][0]["label"] == "Test Show - S01E01 - Episode 1"


def test_database_refuses_a_second_open_item_for_an_episode(make_episodes, library):
    (episode,) = make_episodes(1)
    DownloadItem.objects.create(episode=episode, site="aniworld", state=ItemState.FAILED)
    DownloadItem.objects.create(episode=episode, site="aniworld", state=ItemState.PENDING)
    with pytest.raises(IntegrityError), transaction.atomic():
        DownloadItem.objects.create(episode=episode, site="aniworld", state=ItemState.DOWNLOADING)


@needs_postgres
def test_concurrent_adds_of_one_episode_make_one_item(make_episodes, library, sent):
    (episode,) = make_episodes(1)
    services.pause_queue()
    results: list[dict] = []
    barrier = threading.Barrier(6)

    def add():
        try:
            barrier.wait()
            results.append(services.enqueue_episodes([episode.pk]))
        finally:
            connection.close()

    threads = [threading.Thread(target=add) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert DownloadItem.objects.filter(episode=episode).count() == 1
    assert sum(len(result["queued"]) for result in results) == 1
    assert sum(len(result["skipped"]) for result in results) == 5


def test_bad_priority_and_language_are_rejected(make_episodes, library):
    (episode,) = make_episodes(1)
    with pytest.raises(InvalidQueueRequest):
        services.enqueue_episodes([episode.pk], "urgent")
    with pytest.raises(InvalidQueueRequest):
        services.enqueue_episodes([episode.pk], "normal", "klingon")
    assert not DownloadItem.objects.exists()


# --- dispatcher ---------------------------------------------------------------------------------


def test_dispatch_order_high_normal_low_fifo_and_the_limit(make_episodes, library, sent, set_config):
    set_config(max_concurrent_downloads=1)
    services.pause_queue()
    episodes = make_episodes(6)
    low = ids(services.enqueue_episodes([episodes[0].pk], "low"))
    normal = ids(services.enqueue_episodes([episodes[1].pk, episodes[2].pk], "normal"))
    high = ids(services.enqueue_episodes([episodes[3].pk, episodes[4].pk], "high"))
    normal += ids(services.enqueue_episodes([episodes[5].pk], "normal"))
    services.start_queue()

    order = []
    for _ in range(6):
        active = list(DownloadItem.objects.filter(state__in=[ItemState.QUEUED, ItemState.DOWNLOADING]))
        assert len(active) == 1, "more than max_concurrent_downloads active"
        order.append(active[0].pk)
        finish(active[0].pk)

    assert order == high + normal + low
    assert [queue for _, _, queue in sent] == ["downloads.high"] * 2 + ["downloads.normal"] * 3 + ["downloads.low"]
    assert len({task_id for _, task_id, _ in sent}) == 6


def test_reorder_changes_dispatch_order_within_a_priority(make_episodes, library, sent, set_config):
    set_config(max_concurrent_downloads=1)
    services.pause_queue()
    a, b, c = ids(services.enqueue_episodes([episode.pk for episode in make_episodes(3)]))
    (high,) = ids(services.enqueue_episodes([make_episodes(1)[0].pk], "high"))

    assert services.reorder_item(c, 0) == [c, a, b]
    assert services.reorder_item(a, 99) == [c, b, a]
    services.start_queue()
    order = []
    for _ in range(4):
        (active,) = DownloadItem.objects.filter(state=ItemState.QUEUED)
        order.append(active.pk)
        finish(active.pk)
    assert order == [high, c, b, a]


def test_reorder_refuses_items_that_are_not_pending(make_episodes, library, sent):
    (item_id,) = ids(services.enqueue_episodes([make_episodes(1)[0].pk]))
    assert DownloadItem.objects.get(pk=item_id).state == ItemState.QUEUED
    with pytest.raises(ItemNotFound):
        services.reorder_item(item_id, 0)
    with pytest.raises(ItemNotFound):
        services.reorder_item(424242, 0)


@needs_postgres
def test_no_double_dispatch_under_concurrent_dispatchers(make_episodes, library, sent, set_config):
    set_config(max_concurrent_downloads=2)
    services.pause_queue()
    services.enqueue_episodes([episode.pk for episode in make_episodes(12)])
    QueueControl.objects.filter(pk=1).update(state="running")
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def run():
        try:
            barrier.wait()
            for _ in range(3):
                services.dispatch()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert DownloadItem.objects.filter(state=ItemState.QUEUED).count() == 2
    assert len(sent) == 2
    assert len({item_id for item_id, _, _ in sent}) == 2


def test_paused_and_stopped_queues_start_nothing(make_episodes, library, sent):
    services.pause_queue()
    services.enqueue_episodes([episode.pk for episode in make_episodes(2)])
    assert services.dispatch() == []
    services.stop_queue()
    assert services.dispatch() == []
    assert sent == []
    result = services.start_queue()
    assert result["changed"] and result["previous"] == "stopped"
    assert len(sent) == 2
    assert services.start_queue()["changed"] is False


def test_pause_lets_active_downloads_finish(make_episodes, library, sent, set_config):
    set_config(max_concurrent_downloads=1)
    first, second = ids(services.enqueue_episodes([episode.pk for episode in make_episodes(2)]))
    claim(first)
    services.pause_queue()
    assert services.control_signal(first, "worker-a") == services.Signal.CONTINUE
    assert services.complete_item(first, "worker-a", relative_path="a.mkv", size=1, language="de")
    assert DownloadItem.objects.get(pk=second).state == ItemState.PENDING
    services.resume_queue()
    assert DownloadItem.objects.get(pk=second).state == ItemState.QUEUED


def test_stop_returns_active_items_to_pending_and_keeps_partials(make_episodes, library, sent):
    first, second = ids(services.enqueue_episodes([episode.pk for episode in make_episodes(2)]))
    claim(first)
    partial = incoming_dir(library) / f"{first}.part"
    partial.write_bytes(b"x" * 100)

    result = services.stop_queue()

    assert sorted(result["requeued"]) == [first, second]
    for item in DownloadItem.objects.all():
        assert item.state == ItemState.PENDING and item.worker_id == "" and item.task_id == ""
        assert item.episode.state == EpisodeState.QUEUED
    assert services.control_signal(first, "worker-a") == services.Signal.STOP
    assert partial.exists()
    assert services.stop_queue()["changed"] is False


# --- cancel and remove ---------------------------------------------------------------------------


def test_cancel_of_a_running_item_signals_the_worker(make_episodes, library, sent):
    (item_id,) = ids(services.enqueue_episodes([make_episodes(1)[0].pk]))
    claim(item_id)
    services.cancel_item(item_id)
    item = DownloadItem.objects.get(pk=item_id)
    assert item.state == ItemState.CANCELLED and item.finished_at
    assert item.episode.state == EpisodeState.MISSING
    assert services.control_signal(item_id, "worker-a") == services.Signal.CANCEL
    assert services.renew_lease(item_id, "worker-a", bytes_done=5) is False


def test_remove_deletes_waiting_items_with_their_partials_and_cancels_active_ones(
    make_episodes, library, sent, set_config
):
    set_config(max_concurrent_downloads=1)
    active, waiting = ids(services.enqueue_episodes([episode.pk for episode in make_episodes(2)]))
    (incoming_dir(library) / f"{waiting}.part").write_bytes(b"partial")

    result = services.remove_items([active, waiting])

    assert result == {"removed": [waiting], "cancelled": [active]}
    assert not DownloadItem.objects.filter(pk=waiting).exists()
    assert DownloadItem.objects.get(pk=active).state == ItemState.CANCELLED
    assert not (incoming_dir(library) / f"{waiting}.part").exists()
    with pytest.raises(ItemNotFound):
        services.remove_items([active, 777777])


# --- leases and the reaper ---------------------------------------------------------------------------


def test_a_task_claims_its_item_once(make_episodes, library, sent):
    (item_id,) = ids(services.enqueue_episodes([make_episodes(1)[0].pk]))
    task_id = DownloadItem.objects.get(pk=item_id).task_id
    assert services.acquire_lease(item_id, "some-other-task", "w1") is None
    assert services.acquire_lease(item_id, task_id, "w1") is not None
    assert services.acquire_lease(item_id, task_id, "w2") is None
    item = DownloadItem.objects.get(pk=item_id)
    assert item.state == ItemState.DOWNLOADING and item.worker_id == "w1"
    assert item.episode.state == EpisodeState.DOWNLOADING


def test_progress_is_written_with_the_lease(make_episodes, library, sent):
    (item_id,) = ids(services.enqueue_episodes([make_episodes(1)[0].pk]))
    claim(item_id)
    before = DownloadItem.objects.get(pk=item_id).lease_expires_at
    assert services.renew_lease(item_id, "worker-a", bytes_done=50, bytes_total=200, speed=10.0, eta_seconds=15)
    item = DownloadItem.objects.get(pk=item_id)
    assert (item.bytes_done, item.bytes_total, item.speed, item.eta_seconds) == (50, 200, 10.0, 15)
    assert item.progress_percent == 25.0
    assert item.lease_expires_at >= before
    assert services.renew_lease(item_id, "intruder", bytes_done=60) is False


def test_reaper_requeues_expired_leases_only(make_episodes, library, sent, set_config):
    set_config(max_concurrent_downloads=2)
    lost, alive = ids(services.enqueue_episodes([episode.pk for episode in make_episodes(2)]))
    claim(lost, "dead-worker")
    claim(alive, "live-worker")
    DownloadItem.objects.filter(pk=lost).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    sent.clear()

    assert services.reap_expired_leases() == [lost]

    item = DownloadItem.objects.get(pk=lost)
    assert item.state == ItemState.QUEUED, "the reaped item is dispatched again at once"
    assert item.attempts == 0 and "stopped responding" in item.last_error
    assert [item_id for item_id, _, _ in sent] == [lost]
    assert DownloadItem.objects.get(pk=alive).worker_id == "live-worker"
    assert services.control_signal(lost, "dead-worker") == services.Signal.STOP


def test_a_dispatched_task_that_never_arrives_is_sent_again(make_episodes, library, sent):
    (item_id,) = ids(services.enqueue_episodes([make_episodes(1)[0].pk]))
    first_task = DownloadItem.objects.get(pk=item_id).task_id
    DownloadItem.objects.filter(pk=item_id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    services.tick()
    item = DownloadItem.objects.get(pk=item_id)
    assert item.state == ItemState.QUEUED and item.task_id != first_task
    assert services.acquire_lease(item_id, first_task, "late-worker") is None


# --- attempts, retries, blocking ----------------------------------------------------------------------


def test_transient_failures_back_off_then_fail(make_episodes, library, sent, set_config):
    set_config(max_retries=2, retry_backoff_seconds=30)
    (item_id,) = ids(services.enqueue_episodes([make_episodes(1)[0].pk]))
    delays = []
    for attempt in range(1, 4):
        claim(item_id)
        before = timezone.now()
        item = services.fail_attempt(
            item_id, "worker-a", Failure(FailureKind.TRANSIENT, f"HTTP 503 #{attempt}"), f"VOE:de#{attempt}"
        )
        if attempt <= 2:
            assert item.state == ItemState.PENDING and item.attempts == attempt
            delays.append(round((item.next_attempt_at - before).total_seconds()))
            assert services.dispatch() == [], "dispatched before its next attempt time"
            DownloadItem.objects.filter(pk=item_id).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
            assert services.dispatch() == [item_id]
    assert delays == [30, 60]
    item = DownloadItem.objects.get(pk=item_id)
    assert item.state == ItemState.FAILED and item.attempts == 3
    assert item.last_error.startswith("Gave up after 3 attempts") and "HTTP 503 #3" in item.last_error
    assert item.tried_sources == ["VOE:de#1", "VOE:de#2", "VOE:de#3"]
    assert item.episode.state == EpisodeState.MISSING


def test_permanent_failure_fails_at_once(make_episodes, library, sent):
    (item_id,) = ids(services.enqueue_episodes([make_episodes(1)[0].pk]))
    claim(item_id)
    reason = "No source in an allowed language: the site offers English Sub; accepted: German Dub."
    item = services.fail_attempt(item_id, "worker-a", Failure(FailureKind.PERMANENT, reason))
    assert item.state == ItemState.FAILED and item.attempts == 0 and item.last_error == reason


def test_site_blocking_waits_without_using_an_attempt_and_holds_that_site(make_episodes, library, sent, set_config):
    set_config(max_concurrent_downloads=3)
    services.pause_queue()
    blocked_item, same_site = ids(services.enqueue_episodes([episode.pk for episode in make_episodes(2)]))
    (other_site,) = ids(services.enqueue_episodes([make_episodes(1, slug="s", site="sto")[0].pk]))
    QueueControl.objects.filter(pk=1).update(state="running")
    services.dispatch()
    claim(blocked_item)
    retry_at = timezone.now() + timedelta(minutes=10)
    DownloadItem.objects.filter(pk__in=[same_site, other_site]).update(
        state=ItemState.PENDING, task_id="", lease_expires_at=None
    )

    item = services.fail_attempt(
        blocked_item, "worker-a", Failure(FailureKind.BLOCKING, "aniworld.to blocks us", retry_at)
    )

    assert item.state == ItemState.PENDING and item.attempts == 0
    assert item.next_attempt_at == retry_at
    assert DownloadItem.objects.get(pk=other_site).state == ItemState.QUEUED
    assert DownloadItem.objects.get(pk=same_site).state == ItemState.PENDING, "the blocked site got a request"


def test_retry_failed_items(make_episodes, library, sent):
    services.pause_queue()
    one, two = ids(services.enqueue_episodes([episode.pk for episode in make_episodes(2)]))
    DownloadItem.objects.filter(pk__in=[one, two]).update(state=ItemState.FAILED, attempts=4, last_error="x")
    result = services.retry_items()
    assert sorted(result["retried"]) == [one, two]
    item = DownloadItem.objects.get(pk=one)
    assert item.state == ItemState.PENDING and item.attempts == 0 and item.tried_sources == []
    skipped = services.retry_items([one])
    assert skipped["retried"] == [] and "not failed" in skipped["skipped"][0]["reason"]
    with pytest.raises(ItemNotFound):
        services.retry_items([123456])


def test_priority_change_moves_an_item_to_the_end_of_its_new_priority(make_episodes, library, sent):
    services.pause_queue()
    first, second = ids(services.enqueue_episodes([episode.pk for episode in make_episodes(2)], "low"))
    item = services.set_priority(second, "high")
    assert item.priority == Priority.HIGH
    services.start_queue()
    assert [item_id for item_id, _, _ in sent][:1] == [second]
    with pytest.raises(InvalidQueueRequest):
        services.set_priority(first, "asap")


def test_hold_and_release_an_item(make_episodes, library, sent):
    services.pause_queue()
    (item_id,) = ids(services.enqueue_episodes([make_episodes(1)[0].pk]))
    services.hold_item(item_id)
    services.start_queue()
    assert DownloadItem.objects.get(pk=item_id).state == ItemState.PAUSED
    services.release_item(item_id)
    assert DownloadItem.objects.get(pk=item_id).state == ItemState.QUEUED


# --- completion and history --------------------------------------------------------------------------


def test_complete_marks_the_episode_present(make_episodes, library, sent):
    (episode,) = make_episodes(1)
    (item_id,) = ids(services.enqueue_episodes([episode.pk]))
    claim(item_id)
    target = library / "Test Show (2020)" / "Season 01" / "ep.mkv"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"video")
    assert services.complete_item(item_id, "worker-a", relative_path=str(target), size=5, language="de")
    episode.refresh_from_db()
    assert episode.state == EpisodeState.PRESENT
    assert episode.file_path == "Test Show (2020)/Season 01/ep.mkv"
    assert DownloadItem.objects.get(pk=item_id).state == ItemState.COMPLETED
    assert services.enqueue_episodes([episode.pk])["skipped"][0]["reason"] == "already in the library"


def test_clear_completed_and_prune_history(make_episodes, library, sent):
    done, failed, waiting = ids(services.enqueue_episodes([episode.pk for episode in make_episodes(3)]))
    long_ago = timezone.now() - timedelta(days=90)
    DownloadItem.objects.filter(pk=done).update(state=ItemState.COMPLETED, finished_at=long_ago)
    DownloadItem.objects.filter(pk=failed).update(state=ItemState.FAILED, finished_at=long_ago)
    assert services.prune_history(timezone.now() - timedelta(days=30)) == 2
    assert list(DownloadItem.objects.values_list("id", flat=True)) == [waiting]
    DownloadItem.objects.filter(pk=waiting).update(state=ItemState.COMPLETED, finished_at=timezone.now())
    assert services.clear_completed() == 1
    assert not DownloadItem.objects.exists()


def test_raising_the_download_limit_dispatches_at_once(make_episodes, library, sent, owner):
    from apps.configuration import services as configuration

    configuration.update_settings({"max_concurrent_downloads": 1}, actor=owner)
    services.enqueue_episodes([episode.pk for episode in make_episodes(3)], "normal")
    assert DownloadItem.objects.filter(state=ItemState.QUEUED).count() == 1
    configuration.update_settings({"max_concurrent_downloads": 3}, actor=owner)  # as PUT /api/config does
    assert DownloadItem.objects.filter(state=ItemState.QUEUED).count() == 3
    assert len(sent) == 3


# --- self-healing: failed sends, lost messages, lost workers (issue 13) ---------------------------------


def heartbeats_listing(monkeypatch, *, active: list[str] = (), reserved: list[str] = ()) -> None:
    """Pretend one live worker reports these task ids as running and received."""
    from apps.queue import heartbeats

    record = {
        "name": "celery@live",
        "active": [{"item_id": 0, "task_id": task_id} for task_id in active],
        "reserved": [{"item_id": 0, "task_id": task_id} for task_id in reserved],
    }
    monkeypatch.setattr(heartbeats, "read_all", lambda: [record])
    monkeypatch.setattr(settings, "REDIS_URL", settings.REDIS_URL or "redis://127.0.0.1:6379/0")


def test_a_failed_send_returns_the_item_to_pending_at_once(make_episodes, library, monkeypatch):
    from aniworld_site import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks, "_send", broker_down)
    (item_id,) = ids(services.enqueue_episodes([make_episodes(1)[0].pk]))

    item = DownloadItem.objects.get(pk=item_id)
    assert item.state == ItemState.PENDING, "no slot is held for a message that never left"
    assert item.task_id == "" and item.lease_expires_at is None
    assert "broker" in item.last_error
    assert Episode.objects.get(pk=item.episode_id).state == EpisodeState.QUEUED


def test_a_failed_send_does_not_touch_an_item_sent_again_meanwhile(make_episodes, library, sent):
    (item_id,) = ids(services.enqueue_episodes([make_episodes(1)[0].pk]))
    assert services.return_unsent(item_id, "an-older-task-id") is False
    assert DownloadItem.objects.get(pk=item_id).state == ItemState.QUEUED


def test_a_queued_item_no_worker_received_is_sent_again_after_the_receipt_timeout(
    make_episodes, library, sent, set_config, monkeypatch
):
    monkeypatch.setattr(settings, "QUEUE_RECEIPT_TIMEOUT_SECONDS", 15)
    set_config(max_concurrent_downloads=3)

    lost, received, fresh = ids(services.enqueue_episodes([episode.pk for episode in make_episodes(3)]))
    long_ago = timezone.now() - timedelta(seconds=20)
    DownloadItem.objects.filter(pk__in=[lost, received]).update(dispatched_at=long_ago)
    tasks_before = dict(DownloadItem.objects.values_list("pk", "task_id"))
    heartbeats_listing(monkeypatch, reserved=[tasks_before[received]])
    sent.clear()

    services.tick()

    after = {item.pk: item for item in DownloadItem.objects.all()}
    assert after[lost].state == ItemState.QUEUED and after[lost].task_id != tasks_before[lost]
    assert [item_id for item_id, _, _ in sent] == [lost]
    assert after[received].task_id == tasks_before[received], "a worker holds its message: not sent twice"
    assert after[fresh].task_id == tasks_before[fresh], "sent moments ago: not yet due"
    assert services.acquire_lease(lost, tasks_before[lost], "late-worker") is None


def test_no_resend_while_every_live_worker_slot_is_busy(make_episodes, library, sent, monkeypatch):
    """With prefetch 1 a busy worker leaves the message in the broker: sending again would pile up copies."""
    from apps.queue import heartbeats

    record = {"name": "celery@busy", "concurrency": 1, "active": [{"item_id": 0, "task_id": "other"}], "reserved": []}
    monkeypatch.setattr(heartbeats, "read_all", lambda: [record])
    monkeypatch.setattr(settings, "REDIS_URL", settings.REDIS_URL or "redis://127.0.0.1:6379/0")
    (item_id,) = ids(services.enqueue_episodes([make_episodes(1)[0].pk]))
    DownloadItem.objects.filter(pk=item_id).update(dispatched_at=timezone.now() - timedelta(seconds=60))
    task_id = DownloadItem.objects.get(pk=item_id).task_id
    services.tick()
    assert DownloadItem.objects.get(pk=item_id).task_id == task_id


def test_no_resend_when_the_heartbeats_cannot_be_read(make_episodes, library, sent, monkeypatch):
    from apps.queue import heartbeats

    def redis_down():
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(heartbeats, "read_all", redis_down)
    monkeypatch.setattr(settings, "REDIS_URL", settings.REDIS_URL or "redis://127.0.0.1:6379/0")
    (item_id,) = ids(services.enqueue_episodes([make_episodes(1)[0].pk]))
    DownloadItem.objects.filter(pk=item_id).update(dispatched_at=timezone.now() - timedelta(seconds=60))
    task_id = DownloadItem.objects.get(pk=item_id).task_id
    services.tick()
    assert DownloadItem.objects.get(pk=item_id).task_id == task_id


def test_a_download_whose_worker_has_no_heartbeat_is_taken_over(make_episodes, library, sent, set_config, monkeypatch):
    set_config(max_concurrent_downloads=3)
    lost, listed, renewing = ids(services.enqueue_episodes([episode.pk for episode in make_episodes(3)]))
    for item_id in (lost, listed, renewing):
        claim(item_id, f"node:1:{item_id}")
    silent_since = timezone.now() - timedelta(seconds=30)
    DownloadItem.objects.filter(pk__in=[lost, listed]).update(updated_at=silent_since)
    heartbeats_listing(monkeypatch, active=[DownloadItem.objects.get(pk=listed).task_id])

    assert services.reap_expired_leases(services.received_task_ids()) == [lost]

    states = dict(DownloadItem.objects.values_list("pk", "state"))
    assert states[lost] == ItemState.QUEUED, "taken over at once, long before its lease expires"
    assert states[listed] == ItemState.DOWNLOADING, "its worker's heartbeat lists it"
    assert states[renewing] == ItemState.DOWNLOADING, "its worker renews it (heartbeats lost with a Redis restart)"


def test_skipped_ids_take_no_queue_positions(make_episodes, library, sent):
    first, second = make_episodes(2)
    services.enqueue_episodes([first.pk, *range(900000, 910000)])
    before = QueueControl.objects.get().next_position
    services.enqueue_episodes([second.pk])
    assert QueueControl.objects.get().next_position == before + 1
    assert before < 100, "10,000 unknown ids moved the position counter"


def test_retrying_items_that_are_not_failed_takes_no_positions(make_episodes, library, sent):
    waiting = ids(services.enqueue_episodes([episode.pk for episode in make_episodes(3)]))
    before = QueueControl.objects.get().next_position
    result = services.retry_items(waiting)
    assert result["retried"] == [] and len(result["skipped"]) == 3
    assert QueueControl.objects.get().next_position == before


def test_a_404_for_many_unknown_ids_lists_a_few_and_counts_them(library):
    unknown = list(range(900000, 910000))
    with pytest.raises(ItemNotFound) as raised:
        services.remove_items(unknown)
    details = raised.value.details
    assert details["count"] == 10000
    assert len(details["id"]) <= 20 and len(str(raised.value)) < 400
