"""Dispatch: move pending items to ``queued`` and send them to Celery; reap expired leases; the beat tick.

The dispatcher runs after every change (after commit) and on the beat tick: it
moves the next pending items to ``queued`` while fewer than
``max_concurrent_downloads`` are active cluster-wide and sends each, by task
name, to the Celery queue of its priority.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from aniworld_site.tasks import DOWNLOAD_ITEM, DOWNLOAD_QUEUES, send_on_commit
from apps.library import services as library
from apps.library.models import EpisodeState
from apps.queue import config
from apps.queue.models import ACTIVE_STATES, DownloadItem, ItemState, Priority, QueueControl, QueueState
from apps.queue.services.common import announce, clear_lease, control_row
from apps.realtime import system

logger = logging.getLogger("aniworld.download")


def dispatch_after_commit() -> None:
    transaction.on_commit(dispatch)


def return_active_to_pending(reason: str, extra: Q | None = None) -> list[int]:
    queryset = DownloadItem.objects.select_for_update().filter(state__in=ACTIVE_STATES)
    if extra is not None:
        queryset = queryset.filter(extra)
    items = list(queryset)
    for item in items:
        item.state = ItemState.PENDING
        clear_lease(item)
        item.last_error = reason
        item.save()
        library.set_episode_state(item.episode_id, EpisodeState.QUEUED)
    return [item.pk for item in items]


# --- the dispatcher ----------------------------------------------------------------------------------


def _blocked_sites(control: QueueControl, now: datetime) -> list[str]:
    blocked = []
    for site, until in (control.blocked_sites or {}).items():
        try:
            if datetime.fromisoformat(until) > now:
                blocked.append(site)
        except (TypeError, ValueError):
            continue
    return blocked


def dispatch() -> list[int]:
    """Move the next pending items to ``queued`` while fewer than the maximum are active; send them to Celery.

    Order: priority (HIGH first), then position, then age. Safe to call from any
    number of processes at once: the control row lock serialises dispatchers, so
    the count of active items it sees is exact and nothing is dispatched twice.
    """
    limit = config.max_concurrent_downloads()
    now = timezone.now()
    with transaction.atomic():
        control = control_row(lock=True)
        if control.state != QueueState.RUNNING:
            return []
        active = DownloadItem.objects.filter(state__in=ACTIVE_STATES).count()
        free = limit - active
        if free <= 0:
            return []
        candidates = (
            DownloadItem.objects.filter(state=ItemState.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .exclude(site__in=_blocked_sites(control, now))
            .order_by("priority", "position", "created_at", "id")
        )
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        chosen = list(candidates[:free])
        lease_until = now + timedelta(seconds=config.dispatch_timeout_seconds())
        dispatched: list[int] = []
        for item in chosen:
            item.state = ItemState.QUEUED
            item.task_id = uuid.uuid4().hex
            item.dispatched_at = now
            item.lease_expires_at = lease_until
            item.worker_id = ""
            item.save(
                update_fields=["state", "task_id", "dispatched_at", "lease_expires_at", "worker_id", "updated_at"]
            )
            # broker down: the reaper sends it again after the dispatch timeout
            send_on_commit(DOWNLOAD_ITEM, args=[item.pk], task_id=item.task_id, queue=celery_queue_for(item.priority))
            dispatched.append(item.pk)
        if dispatched:
            announce(dispatched, "dispatched")
    return dispatched


def clear_site_wait(site: str) -> list[int]:
    """The site answered again (the owner asked to try now): forget its block and let its waiting items start."""
    now = timezone.now()
    with transaction.atomic():
        control = control_row(lock=True)
        if site in (control.blocked_sites or {}):
            control.blocked_sites = {key: until for key, until in control.blocked_sites.items() if key != site}
            control.save(update_fields=["blocked_sites", "updated_at"])
        waiting = DownloadItem.objects.filter(state=ItemState.PENDING, site=site, next_attempt_at__gt=now)
        released = list(waiting.values_list("pk", flat=True))
        if released:
            DownloadItem.objects.filter(pk__in=released).update(next_attempt_at=None, updated_at=now)
            announce(released, "site_cleared")
        dispatch_after_commit()
    return released


def celery_queue_for(priority: int) -> str:
    return DOWNLOAD_QUEUES[Priority(priority).name]


def reap_expired_leases() -> list[int]:
    """Items whose worker stopped renewing (killed, host lost) or whose task never arrived go back to pending."""
    now = timezone.now()
    with transaction.atomic():
        control_row(lock=True)
        expired = Q(lease_expires_at__lt=now)
        lost_workers = set(
            DownloadItem.objects.filter(expired, state__in=ACTIVE_STATES)
            .exclude(worker_id="")
            .values_list("worker_id", flat=True)
        )
        requeued = return_active_to_pending(
            "no worker finished it in time (its worker stopped responding, or the task never arrived); "
            "will resume from its partial file",
            expired,
        )
        if requeued:
            logger.warning("reaper: requeued item(s) %s whose lease expired", requeued)
            for worker in sorted(lost_workers):
                transaction.on_commit(lambda worker=worker: system.worker_lost(worker, "its download lease expired"))
            announce(requeued, "lease_expired")
            dispatch_after_commit()
    return requeued


def dispatch_when_concurrency_changes(sender: object, fields: list[str], **kwargs: object) -> None:
    """A raised download limit starts the next items now, not on the next beat tick."""
    if "max_concurrent_downloads" in fields:
        dispatch()


def tick() -> dict[str, list[int]]:
    """The beat job: reap expired leases, then dispatch; warn the owner when the library disk runs full."""
    system.check_disk_space(config.library_root())
    return {"requeued": reap_expired_leases(), "dispatched": dispatch()}
