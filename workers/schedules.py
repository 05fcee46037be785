"""Celery tasks for the schedules area (thin: they call services).

Beat starts the scheduled ones through the PeriodicTask rows that
``apps.configuration.schedules`` keeps in step with the settings. Each can also
be called directly (``check_new_episodes()``) and is safe to run twice; a run
that is still going makes the next one skip instead of overlapping.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.utils import timezone

from aniworld_site import tasks
from aniworld_site.locks import LockHeld, cluster_lock
from apps.configuration import notifications, selectors
from apps.library import services as library
from apps.queue import services as queue
from workers.library import run_scan

logger = logging.getLogger(__name__)

RUN_LOCK_SECONDS = 2 * 3600


@contextlib.contextmanager
def _single_run(name: str) -> Iterator[bool]:
    """True when this run holds the cluster-wide lock for ``name`` (released at the end, only by its holder)."""
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(cluster_lock(f"schedules:running:{name}", RUN_LOCK_SECONDS, name))
        except LockHeld:
            yield False
            return
        except Exception as exc:  # no Redis: run anyway rather than never
            logger.warning("schedule lock unavailable for %s: %s", name, exc)
            yield True
            return
        yield True


@shared_task(name=tasks.CHECK_NEW_EPISODES, queue=tasks.MAINTENANCE_QUEUE)
def check_new_episodes() -> dict[str, Any]:
    """Look for new episodes of monitored series; queue them when the owner turned auto-queue on."""
    with _single_run("check_new_episodes") as acquired:
        if not acquired:
            return {"status": "skipped", "reason": "a previous check is still running"}
        auto_queue = selectors.auto_queue_new_episodes()
        result = library.check_for_new_episodes()
        missing = result.pop("missing_episode_ids", [])
        queued = len(queue.enqueue_episodes(missing, "normal")["queued"]) if auto_queue and missing else 0
    found = int(result.get("new_episodes", 0))
    if found:
        series = ", ".join(result.get("series", [])[:10])
        body = f"{found} new episode(s)" + (f" of {series}" if series else "") + "."
        if queued:
            body += f" {queued} added to the download queue."
        notifications.notify(notifications.NEW_EPISODES, "Aniworld: new episodes", body)
    return {"status": "ok", "auto_queue": auto_queue, "queued": queued, **result}


@shared_task(name=tasks.RESCAN_LIBRARY, queue=tasks.MAINTENANCE_QUEUE, bind=True)
def rescan_library(self) -> dict[str, Any]:
    """Nightly: rescan the library folder, with progress like the owner's scan (skipped while another runs)."""
    return run_scan(self.request.id or "")


@shared_task(name=tasks.PRUNE_HISTORY, queue=tasks.MAINTENANCE_QUEUE)
def prune_history() -> dict[str, Any]:
    """Delete finished queue items older than the configured retention (0 days = keep forever)."""
    days = selectors.history_retention_days()
    if days <= 0:
        return {"status": "disabled"}
    cutoff = timezone.now() - timedelta(days=days)
    deleted = queue.prune_history(older_than=cutoff)
    logger.info("queue history pruned: %s item(s) finished before %s", deleted, cutoff.isoformat())
    return {"status": "ok", "deleted": deleted, "older_than": cutoff.isoformat()}


@shared_task(name=tasks.SEND_NOTIFICATION, queue=tasks.MAINTENANCE_QUEUE)
def send_notification(event: str, title: str, body: str) -> bool:
    return notifications.send_notification_now(event, title, body)


@shared_task(name=tasks.REFRESH_MEDIA_SERVERS, queue=tasks.MAINTENANCE_QUEUE)
def refresh_media_servers() -> list[dict[str, Any]]:
    return notifications.refresh_media_servers_now()
