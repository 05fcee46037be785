"""The only code that changes the download queue.

Every change runs in one database transaction and publishes an event for the
realtime layer (after commit). After every change the dispatcher runs (also
after commit): it moves the next pending items to ``queued`` while fewer than
``max_concurrent_downloads`` are active cluster-wide and sends each to the
Celery queue of its priority.

Race safety: the dispatcher and every enqueue lock the single
:class:`QueueControl` row first (``SELECT … FOR UPDATE`` on PostgreSQL; on
SQLite every transaction is IMMEDIATE, i.e. one writer at a time), so two
dispatchers on different hosts can never both see a free slot. Duplicates are
impossible even under races: a partial unique index allows one open item per
episode. Workers only change an item while they hold its lease (``worker_id``
plus ``lease_expires_at``); every worker-side update is conditional on it.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from aniworld_site.errors import Conflict
from apps.catalog.types import Language
from apps.configuration import notifications
from apps.library import services as library
from apps.library.models import Episode, EpisodeState
from apps.queue import config
from apps.queue.errors import InvalidQueueRequest, ItemNotFound
from apps.queue.events import (
    DOWNLOAD_COMPLETE,
    DOWNLOAD_FAILED,
    QUEUE_PAUSED,
    QUEUE_RESUMED,
    QUEUE_STARTED,
    QUEUE_STATUS,
    QUEUE_STOPPED,
    publish_queue_event,
)
from apps.queue.models import (
    ACTIVE_STATES,
    FINISHED_STATES,
    OPEN_STATES,
    DownloadItem,
    ItemState,
    Priority,
    QueueControl,
    QueueState,
    QueueTotals,
)
from apps.realtime import system
from workers.engine import Failure, FailureKind, discard_partial, incoming_dir

logger = logging.getLogger("aniworld.download")


# --- helpers ---------------------------------------------------------------------------------


def _now() -> datetime:
    return timezone.now()


def _control(*, lock: bool = False) -> QueueControl:
    QueueControl.objects.get_or_create(pk=QueueControl.ROW_ID)
    queryset = QueueControl.objects.select_for_update() if lock else QueueControl.objects
    return queryset.get(pk=QueueControl.ROW_ID)


def queue_state() -> str:
    return _control().state


def _parse_priority(value: str | int | Priority) -> Priority:
    if isinstance(value, Priority):
        return value
    if isinstance(value, int):
        return Priority(value)
    try:
        return Priority.from_name(str(value))
    except ValueError as exc:
        raise InvalidQueueRequest(str(exc), {"priority": value}) from exc


def _parse_language(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    try:
        return Language(value).value
    except ValueError as exc:
        allowed = ", ".join(language.value for language in Language)
        raise InvalidQueueRequest(f"Unknown language {value!r}; use one of {allowed}.", {"language": value}) from exc


def episode_label(episode: Episode) -> str:
    series = episode.season.series
    code = f"S{episode.season.number:02d}E{episode.number:02d}"
    title = episode.title_de or episode.title_en
    return f"{series.title} - {code}" + (f" - {title}" if title else "")


def _summary() -> dict[str, Any]:
    from apps.queue.selectors import state_counts

    return {"state": queue_state(), "counts": state_counts()}


def _announce(item_ids: Iterable[int] = (), reason: str = "") -> None:
    """After commit: publish the queue's new counts and which items changed."""
    changed = sorted(set(item_ids))

    def send() -> None:
        publish_queue_event(QUEUE_STATUS, {**_summary(), "changed": changed, "reason": reason})

    transaction.on_commit(send)


def _dispatch_after_commit() -> None:
    transaction.on_commit(dispatch)


def _discard_partial(item_id: int) -> None:
    try:
        discard_partial(incoming_dir(config.library_root()), item_id)
    except OSError as exc:
        logger.warning("item %s: could not delete its partial download: %s", item_id, exc)


def _restore_episode(episode_id: int) -> None:
    library.restore_episode_state(episode_id)


def _get_item(item_id: int, *, lock: bool = False) -> DownloadItem:
    queryset = DownloadItem.objects.select_for_update() if lock else DownloadItem.objects
    try:
        return queryset.get(pk=item_id)
    except DownloadItem.DoesNotExist:
        raise ItemNotFound(item_id) from None


def _take_positions(control: QueueControl, count: int) -> int:
    """Reserve ``count`` positions at the end of the queue (caller holds the control row lock)."""
    first = control.next_position
    control.next_position = first + count
    control.save(update_fields=["next_position", "updated_at"])
    return first


# --- adding ------------------------------------------------------------------------------------


def enqueue_episodes(
    episode_ids: Sequence[int], priority: str | int | Priority = Priority.NORMAL, language: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Queue downloads of episodes. Duplicates and episodes already present are reported, not added.

    Returns ``{"queued": [item, …], "skipped": [{"episode_id", "reason"}, …]}``.
    """
    from apps.queue.selectors import item_data

    rank = _parse_priority(priority)
    wanted_language = _parse_language(language)
    queued: list[DownloadItem] = []
    skipped: list[dict[str, Any]] = []
    unique_ids = list(dict.fromkeys(int(episode_id) for episode_id in episode_ids))
    with transaction.atomic():
        control = _control(lock=True)
        episodes = Episode.objects.select_related("season__series").in_bulk(unique_ids)
        open_items = {
            item.episode_id: item
            for item in DownloadItem.objects.filter(episode_id__in=unique_ids, state__in=OPEN_STATES)
        }
        position = _take_positions(control, len(unique_ids))
        for episode_id in unique_ids:
            episode = episodes.get(episode_id)
            reason = _skip_reason(episode, open_items.get(episode_id))
            if reason:
                skipped.append({"episode_id": episode_id, "reason": reason})
                continue
            try:
                with transaction.atomic():
                    item = DownloadItem.objects.create(
                        episode=episode,
                        site=episode.season.series.site,
                        label=episode_label(episode)[:600],
                        language=wanted_language,
                        priority=rank,
                        position=position,
                    )
                    library.set_episode_state(episode_id, EpisodeState.QUEUED)
            except IntegrityError:  # another process queued it a moment ago
                skipped.append({"episode_id": episode_id, "reason": "already in the queue"})
                continue
            position += 1
            queued.append(item)
        _announce((item.pk for item in queued), "added")
        _dispatch_after_commit()
    return {"queued": [item_data(item) for item in queued], "skipped": skipped}


def _skip_reason(episode: Episode | None, open_item: DownloadItem | None) -> str | None:
    if episode is None:
        return "unknown episode"
    if open_item is not None:
        return f"already in the queue (item {open_item.pk}, {open_item.state})"
    if episode.state == EpisodeState.PRESENT:
        return "already in the library"
    if episode.state == EpisodeState.IGNORED:
        return "marked ignored in the library"
    return None


# --- owner actions on items ---------------------------------------------------------------------


def cancel_item(item_id: int) -> DownloadItem:
    """Cancel one item. An active download stops within seconds and its partial file is deleted."""
    with transaction.atomic():
        item = _get_item(item_id, lock=True)
        _cancel_locked(item)
        _announce([item.pk], "cancelled")
        _dispatch_after_commit()
    return item


def _cancel_locked(item: DownloadItem) -> None:
    if item.state not in OPEN_STATES:
        return
    was_downloading = item.state == ItemState.DOWNLOADING
    item.state = ItemState.CANCELLED
    item.finished_at = _now()
    item.speed = None
    item.eta_seconds = None
    item.task_id = ""
    item.save()
    _restore_episode(item.episode_id)
    if not was_downloading:  # a running worker deletes its own partial when it notices the cancel
        item_id = item.pk
        transaction.on_commit(lambda: _discard_partial(item_id))


def remove_items(item_ids: Sequence[int]) -> dict[str, list[int]]:
    """Remove items: active ones are cancelled (and kept as history), all others are deleted."""
    removed: list[int] = []
    cancelled: list[int] = []
    with transaction.atomic():
        items = {item.pk: item for item in DownloadItem.objects.select_for_update().filter(pk__in=item_ids)}
        missing = [item_id for item_id in item_ids if item_id not in items]
        if missing:
            raise ItemNotFound(missing, f"Unknown queue item(s): {', '.join(map(str, missing))}.")
        for item in items.values():
            if item.state in ACTIVE_STATES:
                _cancel_locked(item)
                cancelled.append(item.pk)
                continue
            item_id = item.pk
            if item.state in OPEN_STATES:
                _restore_episode(item.episode_id)
                transaction.on_commit(lambda item_id=item_id: _discard_partial(item_id))
            item.delete()
            removed.append(item_id)
        _announce([*removed, *cancelled], "removed")
        _dispatch_after_commit()
    return {"removed": sorted(removed), "cancelled": sorted(cancelled)}


def reorder_item(item_id: int, new_position: int) -> list[int]:
    """Move a pending item to ``new_position`` (0-based) among the pending items of its priority.

    Returns the ids of that priority's pending items in their new order. Raises
    a 404 when the item is not pending (only waiting items can be reordered).
    """
    if new_position < 0:
        raise InvalidQueueRequest("new_position must be 0 or more.", {"new_position": new_position})
    with transaction.atomic():
        _control(lock=True)
        item = _get_item(item_id, lock=True)
        if item.state != ItemState.PENDING:
            raise ItemNotFound(item_id, f"Queue item {item_id} is not pending ({item.state}); only pending items move.")
        group = list(
            DownloadItem.objects.select_for_update()
            .filter(state=ItemState.PENDING, priority=item.priority)
            .order_by("position", "created_at", "id")
        )
        positions = sorted(member.position for member in group)
        if len(set(positions)) != len(positions):  # legacy duplicates: spread them out first
            positions = list(range(positions[0], positions[0] + len(group)))
        ordered = [member for member in group if member.pk != item.pk]
        ordered.insert(min(new_position, len(ordered)), item)
        for member, position in zip(ordered, positions, strict=True):
            if member.position != position:
                member.position = position
                member.save(update_fields=["position", "updated_at"])
        _announce([item.pk], "reordered")
    return [member.pk for member in ordered]


def set_priority(item_id: int, priority: str | int | Priority) -> DownloadItem:
    rank = _parse_priority(priority)
    with transaction.atomic():
        item = _get_item(item_id, lock=True)
        if item.state in FINISHED_STATES:
            raise Conflict(
                f"Queue item {item_id} is {item.state}; only waiting or running items have a priority.",
                code="item_finished",
            )
        if item.priority != rank:
            control = _control(lock=True)
            item.priority = rank
            item.position = _take_positions(control, 1)  # joins the end of its new priority
            item.save(update_fields=["priority", "position", "updated_at"])
        _announce([item.pk], "priority")
        _dispatch_after_commit()
    return item


def hold_item(item_id: int) -> DownloadItem:
    """Put a pending item on hold (``paused``): the dispatcher skips it until released."""
    with transaction.atomic():
        item = _get_item(item_id, lock=True)
        if item.state == ItemState.PAUSED:
            return item
        if item.state != ItemState.PENDING:
            raise Conflict(f"Only pending items can be held; item {item_id} is {item.state}.", code="not_pending")
        item.state = ItemState.PAUSED
        item.save(update_fields=["state", "updated_at"])
        _announce([item.pk], "held")
    return item


def release_item(item_id: int) -> DownloadItem:
    with transaction.atomic():
        item = _get_item(item_id, lock=True)
        if item.state == ItemState.PAUSED:
            item.state = ItemState.PENDING
            item.save(update_fields=["state", "updated_at"])
            _announce([item.pk], "released")
            _dispatch_after_commit()
        elif item.state != ItemState.PENDING:
            raise Conflict(f"Item {item_id} is {item.state}, not held.", code="not_held")
    return item


def clear_completed() -> int:
    with transaction.atomic():
        deleted, _ = DownloadItem.objects.filter(state=ItemState.COMPLETED).delete()
        _announce((), "cleared")
    return deleted


def retry_items(item_ids: Sequence[int] | None = None) -> dict[str, list]:
    """Put failed (or cancelled) items back to pending with fresh attempts; ``None`` = every failed item."""
    retried: list[int] = []
    skipped: list[dict[str, Any]] = []
    with transaction.atomic():
        control = _control(lock=True)
        if item_ids is None:
            items = list(DownloadItem.objects.select_for_update().filter(state=ItemState.FAILED).order_by("id"))
        else:
            found = {item.pk: item for item in DownloadItem.objects.select_for_update().filter(pk__in=item_ids)}
            missing = [item_id for item_id in item_ids if item_id not in found]
            if missing:
                raise ItemNotFound(missing, f"Unknown queue item(s): {', '.join(map(str, missing))}.")
            items = [found[item_id] for item_id in dict.fromkeys(item_ids)]
        position = _take_positions(control, len(items))
        for item in items:
            if item.state not in (ItemState.FAILED, ItemState.CANCELLED):
                skipped.append({"id": item.pk, "reason": f"item is {item.state}, not failed"})
                continue
            if Episode.objects.filter(pk=item.episode_id, state=EpisodeState.PRESENT).exists():
                skipped.append({"id": item.pk, "reason": "the episode is already in the library"})
                continue
            try:
                with transaction.atomic():
                    DownloadItem.objects.filter(pk=item.pk).update(
                        state=ItemState.PENDING,
                        attempts=0,
                        next_attempt_at=None,
                        tried_sources=[],
                        finished_at=None,
                        position=position,
                        worker_id="",
                        task_id="",
                        lease_expires_at=None,
                        updated_at=_now(),
                    )
                    library.set_episode_state(item.episode_id, EpisodeState.QUEUED)
            except IntegrityError:
                skipped.append({"id": item.pk, "reason": "the episode is already queued by another item"})
                continue
            position += 1
            retried.append(item.pk)
        _announce(retried, "retried")
        _dispatch_after_commit()
    return {"retried": retried, "skipped": skipped}


# --- global state ---------------------------------------------------------------------------------


def _set_queue_state(target: QueueState, event: str) -> dict[str, Any]:
    with transaction.atomic():
        control = _control(lock=True)
        previous = control.state
        changed = previous != target
        requeued: list[int] = []
        if changed:
            control.state = target
            control.save(update_fields=["state", "updated_at"])
        if target == QueueState.STOPPED:
            requeued = _return_active_to_pending("stopped by the owner; will resume from its partial file")
        if changed or requeued:
            transaction.on_commit(lambda: publish_queue_event(event, {"state": target.value, "previous": previous}))
            _announce(requeued, event)
        if target == QueueState.RUNNING:
            _dispatch_after_commit()
    return {"state": target.value, "previous": previous, "changed": changed, "requeued": requeued}


def start_queue() -> dict[str, Any]:
    """Run the queue (from stopped or paused). Idempotent."""
    return _set_queue_state(QueueState.RUNNING, QUEUE_STARTED)


def resume_queue() -> dict[str, Any]:
    """Like start; announced as a resume. Idempotent."""
    return _set_queue_state(QueueState.RUNNING, QUEUE_RESUMED)


def pause_queue() -> dict[str, Any]:
    """Active downloads finish; nothing new starts. Idempotent."""
    return _set_queue_state(QueueState.PAUSED, QUEUE_PAUSED)


def stop_queue() -> dict[str, Any]:
    """Active downloads stop (within seconds) and go back to pending, keeping their partial files. Idempotent."""
    return _set_queue_state(QueueState.STOPPED, QUEUE_STOPPED)


def _return_active_to_pending(reason: str, extra: Q | None = None) -> list[int]:
    queryset = DownloadItem.objects.select_for_update().filter(state__in=ACTIVE_STATES)
    if extra is not None:
        queryset = queryset.filter(extra)
    items = list(queryset)
    for item in items:
        item.state = ItemState.PENDING
        item.worker_id = ""
        item.task_id = ""
        item.lease_expires_at = None
        item.speed = None
        item.eta_seconds = None
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
    now = _now()
    with transaction.atomic():
        control = _control(lock=True)
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
        sends: list[tuple[int, str, int]] = []
        for item in chosen:
            item.state = ItemState.QUEUED
            item.task_id = uuid.uuid4().hex
            item.dispatched_at = now
            item.lease_expires_at = lease_until
            item.worker_id = ""
            item.save(
                update_fields=["state", "task_id", "dispatched_at", "lease_expires_at", "worker_id", "updated_at"]
            )
            sends.append((item.pk, item.task_id, item.priority))
        if sends:
            transaction.on_commit(lambda: _send_tasks(sends))
            _announce([item_id for item_id, _, _ in sends], "dispatched")
    return [item_id for item_id, _, _ in sends]


def celery_queue_for(priority: int) -> str:
    return settings.DOWNLOAD_QUEUES[Priority(priority).name]


def _send_tasks(sends: list[tuple[int, str, int]]) -> None:
    from workers.downloads import download_item

    for item_id, task_id, priority in sends:
        try:
            download_item.apply_async(args=[item_id], task_id=task_id, queue=celery_queue_for(priority))
        except Exception as exc:  # broker down: the reaper sends it again after the dispatch timeout
            logger.error("item %s: could not send the download task to Celery: %s", item_id, exc)


def reap_expired_leases() -> list[int]:
    """Items whose worker stopped renewing (killed, host lost) or whose task never arrived go back to pending."""
    now = _now()
    with transaction.atomic():
        _control(lock=True)
        expired = Q(lease_expires_at__lt=now)
        lost_workers = set(
            DownloadItem.objects.filter(expired, state__in=ACTIVE_STATES)
            .exclude(worker_id="")
            .values_list("worker_id", flat=True)
        )
        requeued = _return_active_to_pending(
            "no worker finished it in time (its worker stopped responding, or the task never arrived); "
            "will resume from its partial file",
            expired,
        )
        if requeued:
            logger.warning("reaper: requeued item(s) %s whose lease expired", requeued)
            for worker in sorted(lost_workers):
                transaction.on_commit(lambda worker=worker: system.worker_lost(worker, "its download lease expired"))
            _announce(requeued, "lease_expired")
            _dispatch_after_commit()
    return requeued


def dispatch_when_concurrency_changes(sender: object, fields: list[str], **kwargs: object) -> None:
    """A raised download limit starts the next items now, not on the next beat tick."""
    if "max_concurrent_downloads" in fields:
        dispatch()


def tick() -> dict[str, list[int]]:
    """The beat job: reap expired leases, then dispatch; warn the owner when the library disk runs full."""
    system.check_disk_space(config.library_root())
    return {"requeued": reap_expired_leases(), "dispatched": dispatch()}


# --- worker side: leases, progress, results -----------------------------------------------------------


def acquire_lease(item_id: int, task_id: str, worker_id: str) -> DownloadItem | None:
    """Claim a dispatched item for this worker; None when it is not ours to run (safe to run a task twice)."""
    now = _now()
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
        _announce([item_id], "started")
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
    now = _now()
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
        released = _return_active_to_pending(
            "its worker stopped cleanly; will resume from its partial file",
            Q(state=ItemState.DOWNLOADING, worker_id=worker_id),
        )
        if released:
            logger.info("worker %s stopping: handed item(s) %s back to the queue", worker_id, released)
            _announce(released, "worker_shutdown")
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
        _announce([item_id], "source")
    return same


def complete_item(item_id: int, worker_id: str, *, relative_path: str, size: int, language: str | None) -> bool:
    """The file is in place: mark the item completed and the episode present. False if the lease was lost."""
    now = _now()
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
        _announce([item.pk], "completed")
        _dispatch_after_commit()
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
    now = _now()
    with transaction.atomic():
        item = DownloadItem.objects.select_for_update().filter(_held(item_id, worker_id)).first()
        if item is None:
            return None
        item.worker_id = ""
        item.task_id = ""
        item.lease_expires_at = None
        item.speed = None
        item.eta_seconds = None
        item.last_error = failure.reason[:4000]
        if source_key and source_key not in item.tried_sources:
            item.tried_sources = [*item.tried_sources, source_key]
        event = None
        if failure.kind == FailureKind.BLOCKING:
            retry_at = failure.retry_at or now + timedelta(seconds=config.retry_backoff_seconds(1))
            item.state = ItemState.PENDING
            item.next_attempt_at = retry_at
            control = _control(lock=True)
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
            _restore_episode(item.episode_id)
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
        _announce([item.pk], "attempt_failed")
        _dispatch_after_commit()
    return item


def _series_id(episode_id: int) -> int | None:
    return Episode.objects.filter(pk=episode_id).values_list("season__series_id", flat=True).first()


# --- history and maintenance ---------------------------------------------------------------------------


def prune_history(older_than: datetime) -> int:
    """Delete finished items that finished before ``older_than``; also delete orphaned partial files."""
    with transaction.atomic():
        deleted, _ = DownloadItem.objects.filter(state__in=FINISHED_STATES, finished_at__lt=older_than).delete()
        if deleted:
            _announce((), "pruned")
    delete_orphaned_partials()
    return deleted


def delete_orphaned_partials(min_age: timedelta = timedelta(hours=1)) -> list[str]:
    """Partial files in ``.incoming`` that belong to no open item (a worker died during a cancel)."""
    incoming = incoming_dir(config.library_root())
    open_ids = {
        str(item_id) for item_id in DownloadItem.objects.filter(state__in=OPEN_STATES).values_list("id", flat=True)
    }
    cutoff = (_now() - min_age).timestamp()
    deleted = []
    for path in incoming.iterdir():
        stem = path.name.split(".", 1)[0]
        if not stem.isdigit() or stem in open_ids:
            continue
        try:
            if path.lstat().st_mtime < cutoff:
                path.unlink()
                deleted.append(path.name)
        except OSError:
            continue
    return deleted


# --- import (backup restore and migration from the original download_queue.json) ----------------------

_SITE_ALIASES = {
    "aniworld": "aniworld",
    "aniworld.to": "aniworld",
    "sto": "sto",
    "s.to": "sto",
    "serienstream.to": "sto",
}
_LANGUAGE_ALIASES = {
    **{language.value: language.value for language in Language},
    **{language.label.lower(): language.value for language in Language},
    "1": Language.GERMAN_DUB.value,
    "2": Language.ENGLISH_SUB.value,
    "3": Language.GERMAN_SUB.value,
    "4": Language.ENGLISH_DUB.value,
    "german": Language.GERMAN_DUB.value,
    "german dub": Language.GERMAN_DUB.value,
    "english": Language.ENGLISH_SUB.value,
}
_OPEN_STATUS = {"pending", "queued", "downloading", "active", "paused", "waiting", ""}
_SECTIONS = ("active", "pending", "queue", "items", "downloads", "failed", "completed")
_URL_EPISODE = re.compile(
    r"/(?:anime|serie)/stream/(?P<slug>[^/?#]+)(?:/(?:staffel-(?P<season>\d+)/episode-(?P<episode>\d+)|filme/film-(?P<film>\d+)))?"
)


@dataclass(frozen=True)
class ImportEntry:
    """One queue entry, whatever file it came from."""

    site: str
    slug: str
    season: int
    episode: int
    status: str
    priority: str = "normal"
    language: str | None = None
    attempts: int = 0
    error: str = ""


def _entries(document: Any) -> list[tuple[str, dict[str, Any]]]:
    """(section, raw entry) pairs from our export, the original's sectioned object, or a bare list."""
    if isinstance(document, list):
        return [("", entry) for entry in document]
    if not isinstance(document, dict):
        raise InvalidQueueRequest("The queue file must hold a JSON object or list.")
    found: list[tuple[str, dict[str, Any]]] = []
    for section in _SECTIONS:
        value = document.get(section)
        if isinstance(value, list):
            found.extend((section, entry) for entry in value)
        elif isinstance(value, dict):  # {"<id>": entry, …}
            found.extend((section, entry) for entry in value.values())
    return found


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_import_entry(section: str, raw: Any) -> ImportEntry:
    """Map one entry to :class:`ImportEntry`; raises ValueError with a reason when it cannot be placed.

    Understood keys (ours, then the original AniWorld-Downloader's): ``site`` (aniworld, sto,
    aniworld.to, s.to; else from the URL host; default aniworld); the series as ``slug``,
    ``serie_id``, ``key`` or ``anime_slug``, or from ``url``/``serie_url``/``link``
    (``/anime/stream/<slug>/staffel-<n>/episode-<m>``, films as season 0); ``season`` and
    ``episode`` as numbers or ``episode: {"season", "episode"}``; ``language`` as a code,
    a label ("German Dub") or the original's numeric key (1 de, 2 en-sub, 3 de-sub);
    ``priority`` (high/normal/low); ``status`` (else the section name); ``retry_count`` or
    ``attempts``; ``error`` or ``last_error``.
    """
    if not isinstance(raw, dict):
        raise ValueError("not a JSON object")
    url = str(raw.get("url") or raw.get("serie_url") or raw.get("link") or raw.get("episode_url") or "")
    match = _URL_EPISODE.search(url) if url else None
    slug = (
        raw.get("slug") or raw.get("serie_id") or raw.get("key") or raw.get("anime_slug") or (match and match["slug"])
    )
    if not slug:
        raise ValueError("no series (slug, serie_id or url)")
    site_value = str(raw.get("site") or "").lower()
    if not site_value and url:
        site_value = "sto" if ("s.to" in url or "serienstream" in url or "/serie/stream/" in url) else "aniworld"
    site = _SITE_ALIASES.get(site_value or "aniworld")
    if site is None:
        raise ValueError(f"unknown site {raw.get('site')!r}")
    episode_field = raw.get("episode")
    if isinstance(episode_field, dict):
        season, number = _as_int(episode_field.get("season")), _as_int(episode_field.get("episode"))
    else:
        season, number = _as_int(raw.get("season")), _as_int(episode_field)
    if (season is None or number is None) and match:
        if match["film"]:
            season, number = 0, int(match["film"])
        elif match["season"]:
            season, number = int(match["season"]), int(match["episode"])
    if season is None or number is None or season < 0 or number < 0:
        raise ValueError("no season/episode numbers")
    language_value = raw.get("language")
    language = None
    if language_value not in (None, ""):
        language = _LANGUAGE_ALIASES.get(str(language_value).strip().lower())
        if language is None:
            raise ValueError(f"unknown language {language_value!r}")
    priority = str(raw.get("priority") or "normal").lower()
    if priority not in ("high", "normal", "low"):
        raise ValueError(f"unknown priority {raw.get('priority')!r}")
    status_value = str(raw.get("status") or raw.get("state") or section).lower()
    return ImportEntry(
        site=site,
        slug=str(slug),
        season=season,
        episode=number,
        status=status_value,
        priority=priority,
        language=language,
        attempts=_as_int(raw.get("retry_count", raw.get("attempts"))) or 0,
        error=str(raw.get("error") or raw.get("last_error") or ""),
    )


def import_queue(document: Any) -> dict[str, Any]:
    """Load a queue file (our export or the original ``download_queue.json``) into the queue.

    Open entries (pending, queued, downloading, active, paused) are queued again
    with their priority and language; failed ones are recorded as failed with
    their error; finished ones are reported as skipped. Episodes must already be
    in the library (add the series first); anything that cannot be placed is
    reported with its reason, never silently dropped.
    """
    imported: list[int] = []
    skipped: list[dict[str, Any]] = []
    entries = _entries(document)
    for index, (section, raw) in enumerate(entries):
        try:
            entry = parse_import_entry(section, raw)
        except ValueError as exc:
            skipped.append({"entry": index, "reason": str(exc)})
            continue
        where = f"{entry.site}:{entry.slug} S{entry.season:02d}E{entry.episode:02d}"
        episode = Episode.objects.filter(
            season__series__site=entry.site,
            season__series__slug=entry.slug,
            season__number=entry.season,
            number=entry.episode,
        ).first()
        if episode is None:
            skipped.append({"entry": index, "reason": f"{where} is not in the library; add the series first"})
            continue
        if entry.status in _OPEN_STATUS:
            result = enqueue_episodes([episode.pk], entry.priority, entry.language)
            if result["queued"]:
                imported.append(result["queued"][0]["id"])
            else:
                skipped.append({"entry": index, "reason": f"{where}: {result['skipped'][0]['reason']}"})
        elif entry.status == "failed":
            imported.append(_import_failed(episode, entry).pk)
        else:
            skipped.append({"entry": index, "reason": f"{where}: {entry.status} entries are not imported"})
    return {"entries": len(entries), "imported": imported, "skipped": skipped}


def _import_failed(episode: Episode, entry: ImportEntry) -> DownloadItem:
    with transaction.atomic():
        control = _control(lock=True)
        episode = Episode.objects.select_related("season__series").get(pk=episode.pk)
        item = DownloadItem.objects.create(
            episode=episode,
            site=entry.site,
            label=episode_label(episode)[:600],
            language=entry.language,
            priority=Priority.from_name(entry.priority),
            position=_take_positions(control, 1),
            state=ItemState.FAILED,
            attempts=entry.attempts,
            last_error=entry.error or "failed before the import",
            finished_at=_now(),
        )
        _announce([item.pk], "imported")
    return item
