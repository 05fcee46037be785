"""What every queue service module shares: the control row, item lookup, positions, announcements.

Every change runs in one database transaction and publishes a ``queue_status``
event after commit. The dispatcher and every enqueue lock the single
:class:`QueueControl` row first (``SELECT … FOR UPDATE`` on PostgreSQL; on
SQLite every transaction is IMMEDIATE, i.e. one writer at a time), so two
dispatchers on different hosts can never both see a free slot. See
docs/architecture.md ("Download queue").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from apps.catalog.types import Language
from apps.library import services as library
from apps.library.models import Episode
from apps.queue import config
from apps.queue.errors import InvalidQueueRequest, ItemNotFound
from apps.queue.events import QUEUE_STATUS, publish_queue_event
from apps.queue.models import DownloadItem, Priority, QueueControl
from apps.queue.selectors import queue_state, state_counts
from workers.engine.storage import discard_partial, incoming_dir

logger = logging.getLogger("aniworld.download")


def control_row(*, lock: bool = False) -> QueueControl:
    QueueControl.objects.get_or_create(pk=QueueControl.ROW_ID)
    queryset = QueueControl.objects.select_for_update() if lock else QueueControl.objects
    return queryset.get(pk=QueueControl.ROW_ID)


def parse_priority(value: str | int | Priority) -> Priority:
    if isinstance(value, Priority):
        return value
    if isinstance(value, int):
        return Priority(value)
    try:
        return Priority.from_name(str(value))
    except ValueError as exc:
        raise InvalidQueueRequest(str(exc), {"priority": value}) from exc


def parse_language(value: str | None) -> str | None:
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
    return {"state": queue_state(), "counts": state_counts()}


def announce(item_ids: Iterable[int] = (), reason: str = "") -> None:
    """After commit: publish the queue's new counts and which items changed."""
    changed = sorted(set(item_ids))

    def send() -> None:
        publish_queue_event(QUEUE_STATUS, {**_summary(), "changed": changed, "reason": reason})

    transaction.on_commit(send)


def discard_partial_file(item_id: int) -> None:
    try:
        discard_partial(incoming_dir(config.library_root()), item_id)
    except OSError as exc:
        logger.warning("item %s: could not delete its partial download: %s", item_id, exc)


def restore_episode(episode_id: int) -> None:
    library.restore_episode_state(episode_id)


def cleared_lease_fields() -> dict[str, Any]:
    """The fields of an item no worker holds: no worker, no task, no lease, no live speed or ETA."""
    return {"worker_id": "", "task_id": "", "lease_expires_at": None, "speed": None, "eta_seconds": None}


def clear_lease(item: DownloadItem) -> None:
    for field, value in cleared_lease_fields().items():
        setattr(item, field, value)


def get_item(item_id: int, *, lock: bool = False) -> DownloadItem:
    queryset = DownloadItem.objects.select_for_update() if lock else DownloadItem.objects
    try:
        return queryset.get(pk=item_id)
    except DownloadItem.DoesNotExist:
        raise ItemNotFound(item_id) from None


def take_positions(control: QueueControl, count: int) -> int:
    """Reserve ``count`` positions at the end of the queue (caller holds the control row lock)."""
    first = control.next_position
    control.next_position = first + count
    control.save(update_fields=["next_position", "updated_at"])
    return first
