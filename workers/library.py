"""Celery tasks for the library area (thin: they call services)."""

from __future__ import annotations

import logging

from celery import shared_task

from apps.library import services

logger = logging.getLogger(__name__)


def _log_scan_progress(event: dict) -> None:
    """Scan progress goes to the log; the realtime layer's publisher replaces this when it exists."""
    logger.debug("library scan progress: %s", event)


@shared_task(name="library.scan", queue="maintenance", bind=True, acks_late=True)
def scan_library_task(self, full: bool = False) -> dict:
    """Scan the library; a second scan while one runs anywhere in the cluster is skipped, not queued."""
    try:
        run = services.scan_library(full=full, progress=_log_scan_progress, task_id=self.request.id or "")
    except services.ScanAlreadyRunning:
        return {"status": "skipped", "reason": "another library scan is running"}
    return {"status": run.status, "scan_id": run.pk, **run.stats}
