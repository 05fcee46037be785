"""Reads of the download queue for the API, the dashboard and events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.queue import heartbeats
from apps.queue.errors import ItemNotFound
from apps.queue.models import (
    ACTIVE_STATES,
    OPEN_STATES,
    DownloadItem,
    ItemState,
    Priority,
    QueueControl,
    QueueState,
)

DEFAULT_LIST_LIMIT = 200


def item_data(item: DownloadItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "episode_id": item.episode_id,
        "label": item.label,
        "site": item.site,
        "language": item.language,
        "language_used": item.language_used or None,
        "priority": Priority(item.priority).api_name,
        "position": item.position,
        "state": item.state,
        "attempts": item.attempts,
        "next_attempt_at": item.next_attempt_at,
        "last_error": item.last_error or None,
        "hoster": item.hoster or None,
        "bytes_done": item.bytes_done,
        "bytes_total": item.bytes_total,
        "progress_percent": item.progress_percent,
        "speed": item.speed,
        "eta_seconds": item.eta_seconds,
        "worker_id": item.worker_id or None,
        "file_path": item.file_path or None,
        "created_at": item.created_at,
        "started_at": item.started_at,
        "finished_at": item.finished_at,
    }


def get_item(item_id: int) -> DownloadItem:
    try:
        return DownloadItem.objects.get(pk=item_id)
    except DownloadItem.DoesNotExist:
        raise ItemNotFound(item_id) from None


def state_counts() -> dict[str, int]:
    counts = {state.value: 0 for state in ItemState}
    for row in DownloadItem.objects.values("state").annotate(total=Count("id")):
        counts[row["state"]] = row["total"]
    return counts


def queue_state() -> str:
    row = QueueControl.objects.filter(pk=QueueControl.ROW_ID).values_list("state", flat=True).first()
    return row or QueueState.RUNNING.value


def stats() -> dict[str, Any]:
    """Counts, bytes downloaded, average speed of finished downloads and the success rate."""
    counts = state_counts()
    completed = DownloadItem.objects.filter(state=ItemState.COMPLETED)
    bytes_completed = completed.aggregate(total=Coalesce(Sum("bytes_done"), 0))["total"]
    timed = completed.filter(started_at__isnull=False, finished_at__isnull=False)
    seconds = 0.0
    timed_bytes = 0
    for started, finished, size in timed.values_list("started_at", "finished_at", "bytes_done"):
        seconds += max(0.0, (finished - started).total_seconds())
        timed_bytes += size
    active = DownloadItem.objects.filter(state__in=ACTIVE_STATES)
    active_speed = sum(speed or 0 for speed in active.values_list("speed", flat=True))
    finished = counts[ItemState.COMPLETED] + counts[ItemState.FAILED]
    return {
        "state": queue_state(),
        "counts": counts,
        "total": sum(counts.values()),
        "active": counts[ItemState.QUEUED] + counts[ItemState.DOWNLOADING],
        "bytes_downloaded": bytes_completed,
        "bytes_in_progress": active.aggregate(total=Coalesce(Sum("bytes_done"), 0))["total"],
        "average_speed": (timed_bytes / seconds) if seconds > 0 else None,
        "current_speed": active_speed,
        "success_rate": (counts[ItemState.COMPLETED] / finished) if finished else None,
    }


def status(limit: int = DEFAULT_LIST_LIMIT) -> dict[str, Any]:
    """The whole queue as the dashboard shows it: active, pending, completed and failed, plus stats."""
    base = DownloadItem.objects.all()
    active = base.filter(state__in=ACTIVE_STATES).order_by("priority", "position", "id")
    pending = base.filter(state__in=[ItemState.PENDING, ItemState.PAUSED]).order_by(
        "priority", "position", "created_at", "id"
    )
    completed = base.filter(state=ItemState.COMPLETED).order_by(F("finished_at").desc(nulls_last=True), "-id")
    failed = base.filter(state__in=[ItemState.FAILED, ItemState.CANCELLED]).order_by(
        F("finished_at").desc(nulls_last=True), "-id"
    )
    return {
        "state": queue_state(),
        "active": [item_data(item) for item in active[:limit]],
        "pending": [item_data(item) for item in pending[:limit]],
        "completed": [item_data(item) for item in completed[:limit]],
        "failed": [item_data(item) for item in failed[:limit]],
        "stats": stats(),
    }


def live_workers() -> list[dict[str, Any]]:
    """Workers whose heartbeat is current, by node then name, each with ``age_seconds`` since its last beat.

    Each entry: ``name`` (Celery node name), ``node`` (ANIWORLD_NODE_NAME), ``version``,
    ``pid``, ``concurrency``, ``active`` and ``reserved`` ([{item_id, task_id}]: downloads
    it runs, and received but not started), ``library`` ({path,
    free_bytes, total_bytes} as that worker sees it), ``stopping``, ``started_at``,
    ``last_seen``. Raises a Redis error when Redis is unreachable.
    """
    now = timezone.now()
    workers = []
    for record in heartbeats.read_all():
        try:
            age = (now - datetime.fromisoformat(record["last_seen"])).total_seconds()
        except (KeyError, TypeError, ValueError):
            age = None
        workers.append({**record, "age_seconds": round(age, 1) if age is not None else None})
    return sorted(workers, key=lambda worker: (str(worker.get("node")), str(worker.get("name"))))


SOURCE_HISTORY_ITEMS = 50  # newest download items of one episode looked at


def _attempt_result(item: DownloadItem, key: str) -> str:
    if item.state == ItemState.COMPLETED:
        return "completed"
    if item.state in ACTIVE_STATES:
        return "in_progress"
    if item.state == ItemState.CANCELLED:
        return "cancelled"
    if item.state == ItemState.FAILED or key in (item.tried_sources or []):
        return "failed"
    return "interrupted"  # pending/paused again after a stop, before this source failed


def source_attempts(episode_id: int, *, per_source: int = 3) -> dict[str, list[dict[str, Any]]]:
    """What the queue's attempts with each source of one episode gave, newest first, keyed ``"hoster:language"``.

    Read from what each download item records: the source of its current or last attempt
    (``hoster``/``language_used``, with the item's state and last error) and the sources whose
    attempts failed before (``tried_sources``; their own error messages are not kept).
    """
    history: dict[str, list[dict[str, Any]]] = {}
    items = DownloadItem.objects.filter(episode_id=episode_id).order_by("-updated_at", "-id")[:SOURCE_HISTORY_ITEMS]
    for item in items:
        at = item.finished_at or item.updated_at
        current = f"{item.hoster}:{item.language_used}" if item.hoster and item.language_used else None
        outcomes: list[tuple[str, dict[str, Any]]] = []
        if current:
            result = _attempt_result(item, current)
            error = (item.last_error or None) if result in ("failed", "interrupted") else None
            outcomes.append((current, {"item_id": item.pk, "result": result, "at": at, "error": error}))
        for key in reversed(item.tried_sources or []):
            if key != current:
                outcomes.append((key, {"item_id": item.pk, "result": "failed", "at": at, "error": None}))
        for key, outcome in outcomes:
            entries = history.setdefault(key, [])
            if len(entries) < per_source:
                entries.append(outcome)
    return history


def items_data(item_ids: list[int]) -> list[dict[str, Any]]:
    """Several items as :func:`item_data`, in the order of ``item_ids`` (unknown ids left out)."""
    found = DownloadItem.objects.in_bulk(item_ids)
    return [item_data(found[item_id]) for item_id in item_ids if item_id in found]


def open_item_ids(episode_ids: list[int]) -> dict[int, int]:
    """Episode id → its open (not finished) queue item, for the episodes that have one."""
    rows = DownloadItem.objects.filter(episode_id__in=episode_ids, state__in=OPEN_STATES).values_list(
        "episode_id", "pk"
    )
    return dict(rows)
