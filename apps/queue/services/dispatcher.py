"""Dispatch: move pending items to ``queued`` and send them to Celery; reap lost work; the healing tick.

The dispatcher runs after every change (after commit) and on the tick: it
moves the next pending items to ``queued`` while fewer than
``max_concurrent_downloads`` are active cluster-wide and sends each, by task
name, to the Celery queue of its priority.

The tick (:func:`heal`) runs on beat and every few seconds in every worker, so
no single process matters: a send that failed returns its item to pending at
once (:func:`return_unsent`); a ``queued`` item no live worker heartbeat lists
after the receipt timeout lost its message and is sent again; a
``downloading`` item whose worker has no heartbeat and stopped renewing is
taken over without waiting for its lease. Every step locks the control row, so
any number of them may run at once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from aniworld_site.tasks import DOWNLOAD_ITEM, DOWNLOAD_QUEUES, send_on_commit
from apps.library import services as library
from apps.library.models import EpisodeState
from apps.queue import config, heartbeats
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
        for item in chosen:
            _send_item(item, now)
        dispatched = [item.pk for item in chosen]
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


def _send_item(item: DownloadItem, now: datetime) -> None:
    """Mark ``item`` queued under a new task id and send it after commit (caller holds the control row lock)."""
    item.state = ItemState.QUEUED
    item.task_id = uuid.uuid4().hex
    item.dispatched_at = now
    item.lease_expires_at = now + timedelta(seconds=config.dispatch_timeout_seconds())
    item.worker_id = ""
    item.save(update_fields=["state", "task_id", "dispatched_at", "lease_expires_at", "worker_id", "updated_at"])
    send_on_commit(
        DOWNLOAD_ITEM,
        args=[item.pk],
        task_id=item.task_id,
        queue=celery_queue_for(item.priority),
        on_failure=lambda item_id=item.pk, task_id=item.task_id: return_unsent(item_id, task_id),
    )


def return_unsent(item_id: int, task_id: str) -> bool:
    """The broker refused the item's message: back to pending at once, so it holds no download slot.

    It does not dispatch again (the broker is likely still down); the next tick
    does. False when the item was meanwhile sent again or claimed.
    """
    with transaction.atomic():
        returned = return_active_to_pending(
            "the broker (Redis) could not be reached; it is sent again once the broker answers",
            Q(pk=item_id, state=ItemState.QUEUED, task_id=task_id),
        )
        if returned:
            logger.warning("item %s: its task could not be sent; back to pending", item_id)
            announce(returned, "send_failed")
    return bool(returned)


@dataclass(frozen=True)
class WorkerView:
    """What the live workers' heartbeats say: the task ids they run or received, and whether one has a free slot."""

    received: set[str]
    free_slot: bool


def worker_view() -> WorkerView | None:
    """None when the heartbeats cannot be read (no Redis, Redis down): nothing is concluded from their absence."""
    if not settings.REDIS_URL:
        return None
    try:
        records = heartbeats.read_all()
    except Exception as exc:
        logger.warning("could not read worker heartbeats: %s", exc)
        return None
    received: set[str] = set()
    free_slot = False
    for record in records:
        held = [*record.get("active", ()), *record.get("reserved", ())]
        received.update(str(entry["task_id"]) for entry in held if entry.get("task_id"))
        concurrency = record.get("concurrency")
        if not record.get("stopping") and (concurrency is None or len(held) < concurrency):
            free_slot = True
    return WorkerView(received, free_slot)


def received_task_ids() -> set[str] | None:
    """Task ids that live workers report as running or received; None when the heartbeats cannot be read."""
    view = worker_view()
    return None if view is None else view.received


def resend_unreceived(received: set[str]) -> list[int]:
    """Send again the ``queued`` items no live worker lists after the receipt timeout (their message is gone).

    A new task id makes a late copy of the old message a no-op (its claim fails).
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=config.receipt_timeout_seconds())
    with transaction.atomic():
        control_row(lock=True)
        items = list(
            DownloadItem.objects.select_for_update()
            .filter(state=ItemState.QUEUED, dispatched_at__lt=cutoff)
            .exclude(task_id__in=received)
        )
        for item in items:
            _send_item(item, now)
        resent = [item.pk for item in items]
        if resent:
            logger.warning("item(s) %s: no worker received their task; sent again", resent)
            announce(resent, "resent")
    return resent


def celery_queue_for(priority: int) -> str:
    return DOWNLOAD_QUEUES[Priority(priority).name]


def silent_seconds() -> float:
    """How long a running download may go without renewing before its worker, without a heartbeat, counts as lost.

    Its worker renews every ``QUEUE_PROGRESS_WRITE_SECONDS``; three missed renewals
    keep a live worker whose heartbeat vanished with a Redis restart from being reaped.
    """
    return 3 * config.progress_write_seconds()


def reap_expired_leases(received: set[str] | None = None) -> list[int]:
    """Items whose worker is lost or whose task never arrived go back to pending.

    Lost: the lease expired, or (when ``received`` lists what live workers hold) the
    item is ``downloading`` but no live worker lists its task and it was not renewed
    for :func:`silent_seconds` — taken over within seconds instead of a lease.
    """
    now = timezone.now()
    with transaction.atomic():
        control_row(lock=True)
        lost = Q(lease_expires_at__lt=now)
        if received is not None:
            lost |= Q(state=ItemState.DOWNLOADING, updated_at__lt=now - timedelta(seconds=silent_seconds())) & ~Q(
                task_id__in=received
            )
        lost_workers = set(
            DownloadItem.objects.filter(lost, state__in=ACTIVE_STATES)
            .exclude(worker_id="")
            .values_list("worker_id", flat=True)
        )
        requeued = return_active_to_pending(
            "no worker finished it in time (its worker stopped responding, or the task never arrived); "
            "will resume from its partial file",
            lost,
        )
        if requeued:
            logger.warning("reaper: requeued item(s) %s whose worker was lost or whose lease expired", requeued)
            for worker in sorted(lost_workers):
                transaction.on_commit(lambda worker=worker: system.worker_lost(worker, "its download lease expired"))
            announce(requeued, "lease_expired")
            dispatch_after_commit()
    return requeued


def dispatch_when_concurrency_changes(sender: object, fields: list[str], **kwargs: object) -> None:
    """A raised download limit starts the next items now, not on the next beat tick."""
    if "max_concurrent_downloads" in fields:
        dispatch()


def heal() -> dict[str, list[int]]:
    """Reap lost work, send again what no worker received, dispatch (every worker runs it every few seconds).

    Messages are sent again only while a live worker has a free slot: with every
    slot busy (prefetch 1, late acks) a message waits in the broker unreceived,
    and sending it again would only pile up copies.
    """
    view = worker_view()
    requeued = reap_expired_leases(None if view is None else view.received)
    resent = resend_unreceived(view.received) if view is not None and view.free_slot else []
    return {"requeued": requeued, "resent": resent, "dispatched": dispatch()}


def tick() -> dict[str, list[int]]:
    """The beat job: :func:`heal`; warn the owner when the library disk runs full."""
    system.check_disk_space(config.library_root())
    return heal()
