"""The owner's commands: add, cancel, remove, reorder, priority, hold/release, retry, start/pause/stop, history.

Each runs in one transaction, announces what changed after commit, and lets
the dispatcher start what may start (see :mod:`apps.queue.services.dispatcher`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from aniworld_site.errors import Conflict
from apps.library import services as library
from apps.library.models import Episode, EpisodeState
from apps.queue import config
from apps.queue.errors import InvalidQueueRequest, ItemNotFound, unknown_items
from apps.queue.events import QUEUE_PAUSED, QUEUE_RESUMED, QUEUE_STARTED, QUEUE_STOPPED, publish_queue_event
from apps.queue.models import (
    ACTIVE_STATES,
    FINISHED_STATES,
    OPEN_STATES,
    DownloadItem,
    ItemState,
    Priority,
    QueueState,
)
from apps.queue.services.common import (
    announce,
    clear_lease,
    cleared_lease_fields,
    control_row,
    discard_partial_file,
    episode_label,
    get_item,
    parse_language,
    parse_priority,
    restore_episode,
    take_positions,
)
from apps.queue.services.dispatcher import dispatch_after_commit, return_active_to_pending
from workers.engine.storage import incoming_dir

# --- adding ------------------------------------------------------------------------------------


def enqueue_episodes(
    episode_ids: Sequence[int], priority: str | int | Priority = Priority.NORMAL, language: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Queue downloads of episodes. Duplicates and episodes already present are reported, not added.

    Returns ``{"queued": [item, …], "skipped": [{"episode_id", "reason"}, …]}``.
    """
    from apps.queue.selectors import item_data

    rank = parse_priority(priority)
    wanted_language = parse_language(language)
    queued: list[DownloadItem] = []
    skipped: list[dict[str, Any]] = []
    unique_ids = list(dict.fromkeys(int(episode_id) for episode_id in episode_ids))
    with transaction.atomic():
        control = control_row(lock=True)
        episodes = Episode.objects.select_related("season__series").in_bulk(unique_ids)
        open_items = {
            item.episode_id: item
            for item in DownloadItem.objects.filter(episode_id__in=unique_ids, state__in=OPEN_STATES)
        }
        addable: list[Episode] = []
        for episode_id in unique_ids:
            episode = episodes.get(episode_id)
            reason = _skip_reason(episode, open_items.get(episode_id))
            if reason:
                skipped.append({"episode_id": episode_id, "reason": reason})
            else:
                addable.append(episode)
        position = take_positions(control, len(addable))  # skipped ids take no positions
        for episode in addable:
            episode_id = episode.pk
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
        announce((item.pk for item in queued), "added")
        dispatch_after_commit()
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
        item = get_item(item_id, lock=True)
        _cancel_locked(item)
        announce([item.pk], "cancelled")
        dispatch_after_commit()
    return item


def _cancel_locked(item: DownloadItem) -> None:
    if item.state not in OPEN_STATES:
        return
    was_downloading = item.state == ItemState.DOWNLOADING
    item.state = ItemState.CANCELLED
    item.finished_at = timezone.now()
    clear_lease(item)
    item.save()
    restore_episode(item.episode_id)
    if not was_downloading:  # a running worker deletes its own partial when it notices the cancel
        item_id = item.pk
        transaction.on_commit(lambda: discard_partial_file(item_id))


def remove_items(item_ids: Sequence[int]) -> dict[str, list[int]]:
    """Remove items: active ones are cancelled (and kept as history), all others are deleted."""
    removed: list[int] = []
    cancelled: list[int] = []
    with transaction.atomic():
        items = {item.pk: item for item in DownloadItem.objects.select_for_update().filter(pk__in=item_ids)}
        missing = [item_id for item_id in item_ids if item_id not in items]
        if missing:
            raise unknown_items(missing)
        for item in items.values():
            if item.state in ACTIVE_STATES:
                _cancel_locked(item)
                cancelled.append(item.pk)
                continue
            item_id = item.pk
            if item.state in OPEN_STATES:
                restore_episode(item.episode_id)
                transaction.on_commit(lambda item_id=item_id: discard_partial_file(item_id))
            item.delete()
            removed.append(item_id)
        announce([*removed, *cancelled], "removed")
        dispatch_after_commit()
    return {"removed": sorted(removed), "cancelled": sorted(cancelled)}


def reorder_item(item_id: int, new_position: int) -> list[int]:
    """Move a pending item to ``new_position`` (0-based) among the pending items of its priority.

    Returns the ids of that priority's pending items in their new order. Raises
    a 404 when the item is not pending (only waiting items can be reordered).
    """
    if new_position < 0:
        raise InvalidQueueRequest("new_position must be 0 or more.", {"new_position": new_position})
    with transaction.atomic():
        control_row(lock=True)
        item = get_item(item_id, lock=True)
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
        announce([item.pk], "reordered")
    return [member.pk for member in ordered]


def set_priority(item_id: int, priority: str | int | Priority) -> DownloadItem:
    rank = parse_priority(priority)
    with transaction.atomic():
        item = get_item(item_id, lock=True)
        if item.state in FINISHED_STATES:
            raise Conflict(
                f"Queue item {item_id} is {item.state}; only waiting or running items have a priority.",
                code="item_finished",
            )
        if item.priority != rank:
            control = control_row(lock=True)
            item.priority = rank
            item.position = take_positions(control, 1)  # joins the end of its new priority
            item.save(update_fields=["priority", "position", "updated_at"])
        announce([item.pk], "priority")
        dispatch_after_commit()
    return item


def hold_item(item_id: int) -> DownloadItem:
    """Put a pending item on hold (``paused``): the dispatcher skips it until released."""
    with transaction.atomic():
        item = get_item(item_id, lock=True)
        if item.state == ItemState.PAUSED:
            return item
        if item.state != ItemState.PENDING:
            raise Conflict(f"Only pending items can be held; item {item_id} is {item.state}.", code="not_pending")
        item.state = ItemState.PAUSED
        item.save(update_fields=["state", "updated_at"])
        announce([item.pk], "held")
    return item


def release_item(item_id: int) -> DownloadItem:
    with transaction.atomic():
        item = get_item(item_id, lock=True)
        if item.state == ItemState.PAUSED:
            item.state = ItemState.PENDING
            item.save(update_fields=["state", "updated_at"])
            announce([item.pk], "released")
            dispatch_after_commit()
        elif item.state != ItemState.PENDING:
            raise Conflict(f"Item {item_id} is {item.state}, not held.", code="not_held")
    return item


def clear_completed() -> int:
    with transaction.atomic():
        deleted, _ = DownloadItem.objects.filter(state=ItemState.COMPLETED).delete()
        announce((), "cleared")
    return deleted


def retry_items(item_ids: Sequence[int] | None = None) -> dict[str, list]:
    """Put failed (or cancelled) items back to pending with fresh attempts; ``None`` = every failed item."""
    retried: list[int] = []
    skipped: list[dict[str, Any]] = []
    with transaction.atomic():
        control = control_row(lock=True)
        if item_ids is None:
            items = list(DownloadItem.objects.select_for_update().filter(state=ItemState.FAILED).order_by("id"))
        else:
            found = {item.pk: item for item in DownloadItem.objects.select_for_update().filter(pk__in=item_ids)}
            missing = [item_id for item_id in item_ids if item_id not in found]
            if missing:
                raise unknown_items(missing)
            items = [found[item_id] for item_id in dict.fromkeys(item_ids)]
        retryable: list[DownloadItem] = []
        for item in items:
            if item.state not in (ItemState.FAILED, ItemState.CANCELLED):
                skipped.append({"id": item.pk, "reason": f"item is {item.state}, not failed"})
            elif Episode.objects.filter(pk=item.episode_id, state=EpisodeState.PRESENT).exists():
                skipped.append({"id": item.pk, "reason": "the episode is already in the library"})
            else:
                retryable.append(item)
        position = take_positions(control, len(retryable))  # skipped items take no positions
        for item in retryable:
            try:
                with transaction.atomic():
                    DownloadItem.objects.filter(pk=item.pk).update(
                        state=ItemState.PENDING,
                        attempts=0,
                        next_attempt_at=None,
                        tried_sources=[],
                        finished_at=None,
                        position=position,
                        updated_at=timezone.now(),
                        **cleared_lease_fields(),
                    )
                    library.set_episode_state(item.episode_id, EpisodeState.QUEUED)
            except IntegrityError:
                skipped.append({"id": item.pk, "reason": "the episode is already queued by another item"})
                continue
            position += 1
            retried.append(item.pk)
        announce(retried, "retried")
        dispatch_after_commit()
    return {"retried": retried, "skipped": skipped}


# --- global state ---------------------------------------------------------------------------------


def _set_queue_state(target: QueueState, event: str) -> dict[str, Any]:
    with transaction.atomic():
        control = control_row(lock=True)
        previous = control.state
        changed = previous != target
        requeued: list[int] = []
        if changed:
            control.state = target
            control.save(update_fields=["state", "updated_at"])
        if target == QueueState.STOPPED:
            requeued = return_active_to_pending("stopped by the owner; will resume from its partial file")
        if changed or requeued:
            transaction.on_commit(lambda: publish_queue_event(event, {"state": target.value, "previous": previous}))
            announce(requeued, event)
        if target == QueueState.RUNNING:
            dispatch_after_commit()
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


# --- history and maintenance ---------------------------------------------------------------------------


def prune_history(older_than: datetime) -> int:
    """Delete finished items that finished before ``older_than``; also delete orphaned partial files."""
    with transaction.atomic():
        deleted, _ = DownloadItem.objects.filter(state__in=FINISHED_STATES, finished_at__lt=older_than).delete()
        if deleted:
            announce((), "pruned")
    delete_orphaned_partials()
    return deleted


def delete_orphaned_partials(min_age: timedelta = timedelta(hours=1)) -> list[str]:
    """Partial files in ``.incoming`` that belong to no open item (a worker died during a cancel)."""
    incoming = incoming_dir(config.library_root())
    open_ids = {
        str(item_id) for item_id in DownloadItem.objects.filter(state__in=OPEN_STATES).values_list("id", flat=True)
    }
    cutoff = (timezone.now() - min_age).timestamp()
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
