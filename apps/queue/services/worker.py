"""The worker side: claim a dispatched item, renew its lease with progress, complete it or record a failure.

Workers only change an item while they hold its lease (``worker_id`` plus
``lease_expires_at``); every update here is conditional on it.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.configuration import notifications
from apps.library import services as library
from apps.library.models import Episode, EpisodeState
from apps.queue import config
from apps.queue.events import DOWNLOAD_COMPLETE, DOWNLOAD_FAILED, publish_queue_event
from apps.queue.models import DownloadItem, ItemState, QueueTotals
from apps.queue.services.common import announce, clear_lease, control_row, restore_episode
from apps.queue.services.dispatcher import dispatch_after_commit, return_active_to_pending
from apps.realtime import system
from workers.engine.errors import Failure, FailureKind

logger = logging.getLogger("aniworld.download")


def acquire_lease(item_id: int, task_id: str, worker_id: str) -> DownloadItem | None:
    """Claim a dispatched item for this worker; None when it is not ours to run (safe to run a task twice)."""
    now = timezone.now()
    with transaction.atomic():
        claimed = DownloadItem.objects.filter(pk=item_id, state=ItemState.QUEUED, task_id=task_id).update(
            state=ItemState.DOWNLOADING,
            worker_id=worker_id,
            lease_expires_at=now + timedelta(seconds=config.lease_seconds()),
            started_at=now,
            speed=None,
            eta_seconds=None,
            updated_at=now,
        )
        if not claimed:
            return None
        item = DownloadItem.objects.select_related("episode__season__series").get(pk=item_id)
        library.set_episode_state(item.episode_id, EpisodeState.DOWNLOADING)
        announce([item_id], "started")
    return item


def _held(item_id: int, worker_id: str) -> Q:
    return Q(pk=item_id, state=ItemState.DOWNLOADING, worker_id=worker_id)


def renew_lease(
    item_id: int,
    worker_id: str,
    *,
    bytes_done: int | None = None,
    bytes_total: int | None = None,
    speed: float | None = None,
    eta_seconds: float | None = None,
) -> bool:
    """Extend the lease and store progress; False when the worker no longer holds the item."""
    now = timezone.now()
    fields: dict[str, Any] = {
        "lease_expires_at": now + timedelta(seconds=config.lease_seconds()),
        "updated_at": now,
    }
    if bytes_done is not None:
        fields.update(
            bytes_done=max(0, int(bytes_done)),
            bytes_total=int(bytes_total) if bytes_total else None,
            speed=float(speed) if speed is not None else None,
            eta_seconds=int(eta_seconds) if eta_seconds is not None else None,
        )
    with transaction.atomic():
        return DownloadItem.objects.filter(_held(item_id, worker_id)).update(**fields) == 1


class Signal:
    """What a running download should do, from :func:`control_signal`."""

    CONTINUE = "continue"
    CANCEL = "cancel"  # the owner cancelled or removed it: stop and delete the partial
    STOP = "stop"  # the queue stopped or the lease was lost: stop and keep the partial
    SHUTDOWN = "shutdown"  # its worker stops cleanly: stop, keep the partial, hand the item back


def release_for_shutdown(worker_id: str) -> list[int]:
    """A worker that stops cleanly hands its downloads back: pending at once, partial files kept, no attempt used.

    Called by the worker after the download stopped writing, so the next start (or
    another node) resumes from the partial file without waiting for the lease. It
    does not dispatch: the broker may be stopping with this node (the embedded Redis
    keeps nothing), so the next dispatcher run sends them.
    """
    with transaction.atomic():
        released = return_active_to_pending(
            "its worker stopped cleanly; will resume from its partial file",
            Q(state=ItemState.DOWNLOADING, worker_id=worker_id),
        )
        if released:
            logger.info("worker %s stopping: handed item(s) %s back to the queue", worker_id, released)
            announce(released, "worker_shutdown")
    return released


def control_signal(item_id: int, worker_id: str) -> str:
    row = DownloadItem.objects.filter(pk=item_id).values("state", "worker_id").first()
    if row is None or row["state"] == ItemState.CANCELLED:
        return Signal.CANCEL
    if row["state"] != ItemState.DOWNLOADING or row["worker_id"] != worker_id:
        return Signal.STOP
    return Signal.CONTINUE


def begin_source(item_id: int, worker_id: str, hoster: str, language: str) -> bool:
    """Record the source this attempt uses; True when the partial file on disk came from the same source."""
    key = f"{hoster}:{language}"
    with transaction.atomic():
        item = DownloadItem.objects.select_for_update().filter(_held(item_id, worker_id)).first()
        if item is None:
            return False
        same = item.partial_source == key
        item.hoster = hoster
        item.language_used = language
        item.partial_source = key
        if not same:
            item.bytes_done = 0
            item.bytes_total = None
        item.save(
            update_fields=["hoster", "language_used", "partial_source", "bytes_done", "bytes_total", "updated_at"]
        )
        announce([item_id], "source")
    return same


def complete_item(item_id: int, worker_id: str, *, relative_path: str, size: int, language: str | None) -> bool:
    """The file is in place: mark the item completed and the episode present. False if the lease was lost."""
    now = timezone.now()
    with transaction.atomic():
        item = DownloadItem.objects.select_for_update().filter(pk=item_id).first()
        if item is None:
            return False
        library.mark_episode_present(item.episode_id, relative_path, size, language)  # the file is there either way
        if item.state != ItemState.DOWNLOADING or item.worker_id != worker_id:
            return False
        elapsed = (now - item.started_at).total_seconds() if item.started_at else None
        item.state = ItemState.COMPLETED
        item.finished_at = now
        item.file_path = relative_path
        item.bytes_done = size
        item.bytes_total = size
        item.speed = size / elapsed if elapsed else None
        item.eta_seconds = 0
        item.last_error = ""
        item.next_attempt_at = None
        item.lease_expires_at = None
        item.save()
        count_finished(completed=1, bytes_completed=size, elapsed=elapsed)
        data = {
            "item_id": item.pk,
            "series_id": _series_id(item.episode_id),
            "episode_id": item.episode_id,
            "label": item.label,
            "path": relative_path,
        }
        transaction.on_commit(lambda: publish_queue_event(DOWNLOAD_COMPLETE, data))
        notifications.notify("download_complete", "Download complete", item.label)  # sent after commit
        notifications.request_media_refresh()  # Jellyfin/Emby/Plex pick up the new file
        announce([item.pk], "completed")
        dispatch_after_commit()
    return True


def count_finished(
    *, completed: int = 0, failed: int = 0, bytes_completed: int = 0, elapsed: float | None = None
) -> None:
    """Add a finished download to the lifetime totals (inside the caller's transaction)."""
    timed = elapsed is not None and elapsed > 0
    increments = {
        "completed": F("completed") + completed,
        "failed": F("failed") + failed,
        "bytes_completed": F("bytes_completed") + bytes_completed,
        "timed_bytes": F("timed_bytes") + (bytes_completed if timed else 0),
        "timed_seconds": F("timed_seconds") + (elapsed if timed else 0.0),
    }
    totals = QueueTotals.objects.filter(pk=QueueTotals.ROW_ID)
    if totals.update(**increments):
        return
    try:
        with transaction.atomic():
            QueueTotals.objects.create(pk=QueueTotals.ROW_ID)
    except IntegrityError:
        pass  # another worker created it first
    totals.update(**increments)


def fail_attempt(item_id: int, worker_id: str, failure: Failure, source_key: str | None = None) -> DownloadItem | None:
    """Record a failed attempt: retry later (transient), wait for the site (blocking) or fail now (permanent)."""
    now = timezone.now()
    with transaction.atomic():
        item = DownloadItem.objects.select_for_update().filter(_held(item_id, worker_id)).first()
        if item is None:
            return None
        clear_lease(item)
        item.last_error = failure.reason[:4000]
        if source_key and source_key not in item.tried_sources:
            item.tried_sources = [*item.tried_sources, source_key]
        event = None
        if failure.kind == FailureKind.BLOCKING:
            retry_at = failure.retry_at or now + timedelta(seconds=config.retry_backoff_seconds(1))
            item.state = ItemState.PENDING
            item.next_attempt_at = retry_at
            control = control_row(lock=True)
            control.blocked_sites = {**(control.blocked_sites or {}), item.site: retry_at.isoformat()}
            control.save(update_fields=["blocked_sites", "updated_at"])
            blocked_message = f"{failure.reason} Downloads from this site wait until {retry_at:%H:%M} UTC."
            transaction.on_commit(lambda: system.site_blocking(item.site, blocked_message))
            library.set_episode_state(item.episode_id, EpisodeState.QUEUED)
        elif failure.kind == FailureKind.TRANSIENT and item.attempts < config.max_retries():
            item.attempts += 1
            item.state = ItemState.PENDING
            item.next_attempt_at = now + timedelta(seconds=config.retry_backoff_seconds(item.attempts))
            library.set_episode_state(item.episode_id, EpisodeState.QUEUED)
        else:
            if failure.kind == FailureKind.TRANSIENT:
                item.attempts += 1
                item.last_error = f"Gave up after {item.attempts} attempts. Last error: {failure.reason}"[:4000]
            item.state = ItemState.FAILED
            item.finished_at = now
            item.next_attempt_at = None
            restore_episode(item.episode_id)
            count_finished(failed=1)
            event = {
                "item_id": item.pk,
                "series_id": _series_id(item.episode_id),
                "episode_id": item.episode_id,
                "label": item.label,
                "error": item.last_error,
            }
        item.save()
        if event is not None:
            transaction.on_commit(lambda: publish_queue_event(DOWNLOAD_FAILED, event))
            notifications.notify("download_failed", "Download failed", f"{item.label}: {item.last_error}")
        logger.info("item %s: attempt failed (%s): %s -> %s", item.pk, failure.kind, failure.reason, item.state)
        announce([item.pk], "attempt_failed")
        dispatch_after_commit()
    return item


def _series_id(episode_id: int) -> int | None:
    return Episode.objects.filter(pk=episode_id).values_list("season__series_id", flat=True).first()
