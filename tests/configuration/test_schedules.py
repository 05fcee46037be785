"""Beat schedules follow the settings; the scheduled tasks call the other apps' services."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.configuration import schedules, services
from apps.library.models import Episode, ScanRun, Season, Series
from apps.queue.models import DownloadItem
from workers import schedules as schedule_tasks

pytestmark = pytest.mark.django_db


def managed() -> dict[str, PeriodicTask]:
    return {task.name: task for task in PeriodicTask.objects.filter(name__in=schedules.MANAGED_TASK_NAMES)}


def test_migrate_created_the_default_schedules():
    tasks = managed()
    assert set(tasks) == set(schedules.MANAGED_TASK_NAMES)
    check = tasks[schedules.CHECK_NEW_EPISODES]
    assert check.task == "workers.schedules.check_new_episodes"
    assert check.enabled
    assert (check.interval.every, check.interval.period) == (12, IntervalSchedule.HOURS)
    assert check.queue == "maintenance"
    rescan = tasks[schedules.NIGHTLY_RESCAN]
    assert (rescan.crontab.hour, rescan.crontab.minute) == ("3", "30")
    assert tasks[schedules.PRUNE_HISTORY].enabled


def test_sync_is_idempotent():
    PeriodicTask.objects.filter(name__in=schedules.MANAGED_TASK_NAMES).delete()
    first = schedules.sync_periodic_tasks()
    second = schedules.sync_periodic_tasks()
    assert {name: task.pk for name, task in first.items()} == {name: task.pk for name, task in second.items()}
    assert PeriodicTask.objects.filter(name__in=schedules.MANAGED_TASK_NAMES).count() == 3


def test_saving_settings_updates_the_schedules():
    services.update_settings(
        {"check_new_episodes_hours": 6, "nightly_rescan_time": "01:15", "history_retention_days": 0}, actor="owner"
    )
    tasks = managed()
    assert tasks[schedules.CHECK_NEW_EPISODES].interval.every == 6
    rescan = tasks[schedules.NIGHTLY_RESCAN].crontab
    assert (rescan.hour, rescan.minute) == ("1", "15")
    assert tasks[schedules.PRUNE_HISTORY].enabled is False

    services.update_settings({"check_new_episodes_hours": 0, "nightly_rescan_enabled": False}, actor="owner")
    tasks = managed()
    assert tasks[schedules.CHECK_NEW_EPISODES].enabled is False
    assert tasks[schedules.NIGHTLY_RESCAN].enabled is False


def test_an_invalid_update_leaves_the_schedules_alone():
    before = managed()[schedules.CHECK_NEW_EPISODES].interval.every
    with pytest.raises(services.SettingsInvalid):
        services.update_settings({"check_new_episodes_hours": 3, "max_retries": 100}, actor="owner")
    assert managed()[schedules.CHECK_NEW_EPISODES].interval.every == before


@pytest.fixture
def library_services(monkeypatch):
    """The library functions the schedules call, recorded instead of run (unit test of the wiring)."""
    calls: list[tuple[str, dict]] = []

    def check_for_new_episodes():
        calls.append(("check", {}))
        return {"new_episodes": 2, "missing_episode_ids": [7, 8], "series": ["Frieren"]}

    def enqueue_episodes(episode_ids, priority):
        calls.append(("queue", {"episode_ids": episode_ids, "priority": priority}))
        return {"queued": [{"episode_id": episode_id} for episode_id in episode_ids], "skipped": []}

    def run_scan(task_id, full=False):
        calls.append(("rescan", {"full": full}))
        return {"files": 10}

    monkeypatch.setattr(schedule_tasks.library, "check_for_new_episodes", check_for_new_episodes)
    monkeypatch.setattr(schedule_tasks, "run_scan", run_scan)
    monkeypatch.setattr(schedule_tasks.queue, "enqueue_episodes", enqueue_episodes)
    return calls


def test_check_task_passes_auto_queue_and_notifies(
    library_services, receiver, eager_celery, django_capture_on_commit_callbacks
):
    services.update_settings(
        {"auto_queue_new_episodes": True, "notification_urls": [f"json://127.0.0.1:{receiver.port}/"]}, actor="owner"
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = schedule_tasks.check_new_episodes()
    assert result["status"] == "ok"
    assert result["new_episodes"] == 2 and result["queued"] == 2
    assert library_services == [("check", {}), ("queue", {"episode_ids": [7, 8], "priority": "normal"})]
    assert len(receiver.requests) == 1
    message = receiver.requests[0].json()
    assert message["title"] == "Aniworld: new episodes"
    assert "2 new episode(s) of Frieren" in message["message"]


def test_rescan_task_calls_the_library(library_services):
    assert schedule_tasks.rescan_library() == {"files": 10}
    assert library_services == [("rescan", {"full": False})]


def test_rescan_task_scans_the_configured_library(tmp_path):
    (tmp_path / "Frieren (2023)" / "Season 01").mkdir(parents=True)
    services.update_settings({"library_path": str(tmp_path)}, actor="owner")
    result = schedule_tasks.rescan_library()
    assert result["status"] == "finished", result
    assert ScanRun.objects.get(pk=result["scan_id"]).status == "finished"


def test_the_nightly_rescan_shows_progress_like_the_owners_scan(tmp_path, monkeypatch):
    from apps.realtime import publish as realtime

    frames = []
    monkeypatch.setattr(realtime, "publish", lambda event_type, data, rooms=None: frames.append((event_type, data)))
    (tmp_path / "Frieren (2023)" / "Season 01").mkdir(parents=True)
    services.update_settings({"library_path": str(tmp_path)}, actor="owner")
    assert schedule_tasks.rescan_library()["status"] == "finished"
    progress = [data for event_type, data in frames if event_type == "library_scan_progress"]
    assert progress and progress[-1]["finished"] is True and progress[-1]["phase"] == "finished"


def test_overlapping_checks_are_skipped(library_services):
    with schedule_tasks._single_run("check_new_episodes") as acquired:
        assert acquired
        assert schedule_tasks.check_new_episodes()["status"] == "skipped"
    assert schedule_tasks.check_new_episodes()["status"] == "ok"


def test_prune_task_passes_the_retention_cutoff(monkeypatch):
    seen = {}

    def prune_history(older_than):
        seen["older_than"] = older_than
        return 4

    monkeypatch.setattr(schedule_tasks.queue, "prune_history", prune_history)
    services.update_settings({"history_retention_days": 10}, actor="owner")
    result = schedule_tasks.prune_history()
    assert result["status"] == "ok" and result["deleted"] == 4
    expected = timezone.now() - timedelta(days=10)
    assert abs((seen["older_than"] - expected).total_seconds()) < 5

    services.update_settings({"history_retention_days": 0}, actor="owner")
    assert schedule_tasks.prune_history() == {"status": "disabled"}


def test_prune_task_deletes_old_finished_queue_items(tmp_path):
    services.update_settings({"library_path": str(tmp_path), "history_retention_days": 10}, actor="owner")
    series = Series.objects.create(site="aniworld", slug="frieren", title="Frieren")
    season = Season.objects.create(series=series, number=1)
    now = timezone.now()
    old, recent = (
        DownloadItem.objects.create(
            episode=Episode.objects.create(season=season, number=number),
            site="aniworld",
            state="completed",
            finished_at=now - timedelta(days=age),
        )
        for number, age in ((1, 20), (2, 2))
    )
    result = schedule_tasks.prune_history()
    assert result["status"] == "ok" and result["deleted"] == 1
    assert list(DownloadItem.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not DownloadItem.objects.filter(pk=old.pk).exists()


def test_periodic_task_kwargs_are_valid_json():
    for task in managed().values():
        assert json.loads(task.kwargs) == {}


def test_a_run_that_outlived_its_lock_does_not_free_the_next_runs_lock():
    from django.core.cache import cache

    key = "schedules:running:check_new_episodes"
    with schedule_tasks._single_run("check_new_episodes") as acquired:
        assert acquired
        cache.delete(key)  # this run's lock expired while it was still running ...
        assert cache.add(key, "the next run", timeout=60)  # ... and the next run took it
    assert cache.get(key) == "the next run"  # ending this run left the next run's lock alone
    cache.delete(key)
