"""Celery tasks for the library area (thin: they call services)."""

from __future__ import annotations

from collections.abc import Callable

from celery import shared_task

from aniworld_site import tasks
from apps.library import services
from apps.realtime import system
from apps.realtime.publish import ProgressPublisher

SCAN_EVENT_FIELDS = ("phase", "current", "files_seen", "episodes_found", "episodes_lost", "unmatched_files")


def scan_progress_reporter(publisher: ProgressPublisher) -> Callable[[dict], None]:
    """Scanner events as ``library_scan_progress`` frames (throttled; the last one has ``finished: true``)."""

    def report(event: dict) -> None:
        data = {"done": event.get("directories_visited", 0), "total": None}
        data.update({name: event[name] for name in SCAN_EVENT_FIELDS if name in event})
        if event.get("phase") == "finished":
            publisher.complete(**data)
        else:
            publisher.update(**data)

    return report


@shared_task(name=tasks.LIBRARY_SCAN, queue=tasks.MAINTENANCE_QUEUE, bind=True, acks_late=True)
def scan_library_task(self, full: bool = False) -> dict:
    """Scan the library; a second scan while one runs anywhere in the cluster is skipped, not queued."""
    return run_scan(self.request.id or "", full=full)


def run_scan(task_id: str, *, full: bool = False) -> dict:
    """One library scan with live progress on the dashboard (the owner's scan and the nightly one)."""
    publisher = ProgressPublisher.for_library_scan(task_id or "scan")
    try:
        run = services.scan_library(full=full, progress=scan_progress_reporter(publisher), task_id=task_id)
    except services.ScanAlreadyRunning:
        return {"status": "skipped", "reason": "another library scan is running"}
    except Exception as exc:
        publisher.fail(str(exc) or type(exc).__name__)
        raise
    system.scan_finished(run.stats)
    return {"status": run.status, "scan_id": run.pk, **run.stats}
