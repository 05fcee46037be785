"""Reads of the download queue for the API, the dashboard and events."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cmp_to_key
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.catalog import blocks
from apps.catalog.types import Site
from apps.queue import heartbeats
from apps.queue.errors import InvalidQueueRequest, ItemNotFound
from apps.queue.models import (
    ACTIVE_STATES,
    OPEN_STATES,
    DownloadItem,
    ItemState,
    Priority,
    QueueControl,
    QueueState,
    QueueTotals,
)

DEFAULT_LIST_LIMIT = 200


def worker_node(worker_id: str) -> str | None:
    """The node name in a worker id (``NODE:pid:task``, written by workers.node.worker_identity)."""
    return (worker_id.split(":", 1)[0] or None) if worker_id else None


def blocked_sites(now: datetime | None = None) -> dict[str, datetime]:
    """Site -> time until which it blocks us: the queue's record, or the catalog's known block if later."""
    now = now or timezone.now()
    until: dict[str, datetime] = {}
    recorded = QueueControl.objects.filter(pk=QueueControl.ROW_ID).values_list("blocked_sites", flat=True).first()
    for site, value in (recorded or {}).items():
        try:
            until[site] = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            continue
    for site in Site:
        try:
            block = blocks.known(site)
        except Exception:  # the cache is Redis: without it the queue's own record must do
            block = None
        if block is not None and (site.value not in until or block.retry_at > until[site.value]):
            until[site.value] = block.retry_at
    return {site: time for site, time in until.items() if time > now}


def site_label(site: str) -> str:
    try:
        return Site(site).label
    except ValueError:
        return site


def wait_reason(item: DownloadItem, blocked: dict[str, datetime], now: datetime) -> dict[str, Any] | None:
    """Why a pending item does not start yet: its site blocks us, or it waits to retry after an error."""
    if item.state != ItemState.PENDING:
        return None
    site_until = blocked.get(item.site)
    if site_until is not None:
        until = max(site_until, item.next_attempt_at) if item.next_attempt_at else site_until
        label = site_label(item.site)
        return {
            "kind": "site_blocked",
            "site": item.site,
            "until": until,
            "message": f"{label} is blocking us, next try {until:%H:%M} UTC",
        }
    if item.next_attempt_at and item.next_attempt_at > now:
        return {
            "kind": "retry",
            "site": item.site,
            "until": item.next_attempt_at,
            "message": f"Retrying after an error at {item.next_attempt_at:%H:%M} UTC",
        }
    return None


def item_data(item: DownloadItem, wait: dict[str, Any] | None = None) -> dict[str, Any]:
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
        "worker_node": worker_node(item.worker_id),
        "wait": wait,
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
    for row in DownloadItem.objects.values("state").annotate(total=Count("*")).order_by():
        counts[row["state"]] = row["total"]
    return counts


def queue_state() -> str:
    row = QueueControl.objects.filter(pk=QueueControl.ROW_ID).values_list("state", flat=True).first()
    return row or QueueState.RUNNING.value


def lifetime_totals() -> dict[str, Any]:
    """Totals since the queue existed: they do not shrink when history is cleared or pruned."""
    totals = QueueTotals.objects.filter(pk=QueueTotals.ROW_ID).first() or QueueTotals()
    finished = totals.completed + totals.failed
    return {
        "completed": totals.completed,
        "failed": totals.failed,
        "bytes_downloaded": totals.bytes_completed,
        "average_speed": (totals.timed_bytes / totals.timed_seconds) if totals.timed_seconds > 0 else None,
        "success_rate": (totals.completed / finished) if finished else None,
    }


def stats(counts: dict[str, int] | None = None) -> dict[str, Any]:
    """Counts, bytes, average speed and success rate: a few aggregates in the database, never a row loop.

    ``bytes_downloaded`` and ``average_speed`` are lifetime figures (see :func:`lifetime_totals`);
    ``counts`` and ``success_rate`` describe the items the queue holds now.
    """
    counts = counts if counts is not None else state_counts()
    in_flight = DownloadItem.objects.filter(state__in=ACTIVE_STATES).aggregate(
        bytes_done=Coalesce(Sum("bytes_done"), 0), speed=Coalesce(Sum("speed"), 0.0)
    )
    lifetime = lifetime_totals()
    finished = counts[ItemState.COMPLETED] + counts[ItemState.FAILED]
    return {
        "state": queue_state(),
        "counts": counts,
        "total": sum(counts.values()),
        "active": counts[ItemState.QUEUED] + counts[ItemState.DOWNLOADING],
        "bytes_downloaded": lifetime["bytes_downloaded"],
        "bytes_in_progress": in_flight["bytes_done"],
        "average_speed": lifetime["average_speed"],
        "current_speed": in_flight["speed"],
        "success_rate": (counts[ItemState.COMPLETED] / finished) if finished else None,
        "lifetime": lifetime,
    }


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool = False
    nullable: bool = False  # NULLs sort last


@dataclass(frozen=True)
class QueueList:
    """One list of the status view: which states, in which order (the order is the cursor's key).

    A page is read as one index-ordered query per state (and, for a nullable key, per NULL or not),
    merged here: neither database can walk one index in order for ``state IN (...)`` or NULLS LAST.
    """

    name: str
    states: tuple[str, ...]
    keys: tuple[SortKey, ...]

    def count(self, counts: dict[str, int]) -> int:
        return sum(counts[state] for state in self.states)

    def sort_key(self, item: DownloadItem) -> list[Any]:
        return [getattr(item, key.field) for key in self.keys]

    def compare(self, left: Sequence[Any], right: Sequence[Any]) -> int:
        for key, a, b in zip(self.keys, left, right, strict=True):
            if a == b:
                continue
            if a is None or b is None:
                return 1 if a is None else -1
            return (1 if a < b else -1) if key.descending else (-1 if a < b else 1)
        return 0

    def page(self, limit: int, after: Sequence[Any] | None) -> list[DownloadItem]:
        """The first ``limit`` + 1 items after the sort key ``after`` (or from the start)."""
        nullable = next((key.field for key in self.keys if key.nullable), None)
        missing_options = (False, True) if nullable else (None,)
        rows: list[DownloadItem] = []
        for state in self.states:
            for missing in missing_options:
                query = DownloadItem.objects.filter(state=state)
                if nullable:
                    query = query.filter(**{f"{nullable}__isnull": missing})
                if after is not None:
                    query = query.filter(self._after(after, nulls=bool(missing)))
                rows += query.order_by(*self._ordering())[: limit + 1]
        rows.sort(key=cmp_to_key(lambda a, b: self.compare(self.sort_key(a), self.sort_key(b))))
        return rows[: limit + 1]

    def _ordering(self) -> list[Any]:
        return [F(key.field).desc() if key.descending else F(key.field).asc() for key in self.keys]

    def _after(self, after: Sequence[Any], *, nulls: bool) -> Q:
        """Rows strictly after ``after`` among the rows whose nullable key is NULL (``nulls``) or not."""
        condition = Q(pk__in=[])
        equal = Q()
        for key, value in zip(self.keys, after, strict=True):
            if key.nullable:
                if value is None and not nulls:
                    return Q(pk__in=[])  # the cursor is among the NULLs, which come after every value
                if value is not None and nulls:
                    return Q()  # the cursor is among the values: every NULL comes after it
                if value is None:
                    continue  # NULL equals NULL here
            condition |= equal & Q(**{f"{key.field}__{'lt' if key.descending else 'gt'}": value})
            equal &= Q(**{key.field: value})
        return condition


HISTORY_KEYS = (SortKey("finished_at", descending=True, nullable=True), SortKey("id", descending=True))
QUEUE_LISTS = (
    QueueList("active", tuple(ACTIVE_STATES), (SortKey("priority"), SortKey("position"), SortKey("id"))),
    QueueList(
        "pending",
        (ItemState.PENDING, ItemState.PAUSED),
        (SortKey("priority"), SortKey("position"), SortKey("created_at"), SortKey("id")),
    ),
    QueueList("completed", (ItemState.COMPLETED,), HISTORY_KEYS),
    QueueList("failed", (ItemState.FAILED, ItemState.CANCELLED), HISTORY_KEYS),
)
MAX_CURSOR_LENGTH = 200
LIST_NAMES = tuple(queue_list.name for queue_list in QUEUE_LISTS)


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [value.isoformat() if isinstance(value, datetime) else value for value in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(queue_list: QueueList, cursor: str) -> list[Any]:
    """The sort key a cursor names; InvalidQueueRequest for anything this list did not hand out."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(queue_list.keys):
            raise ValueError("wrong length")
        decoded: list[Any] = []
        for key, value in zip(queue_list.keys, values, strict=True):
            if key.field.endswith("_at"):
                moment = None if value is None and key.nullable else datetime.fromisoformat(value)
                if moment is not None and moment.tzinfo is None:
                    raise ValueError("a cursor's times carry their time zone")
                decoded.append(moment)
            elif isinstance(value, int) and not isinstance(value, bool):
                decoded.append(value)
            else:
                raise ValueError(f"{key.field} is not a number")
        return decoded
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidQueueRequest(
            f"{queue_list.name}_cursor is not a cursor of this list.", {f"{queue_list.name}_cursor": cursor}
        ) from error


def list_page(queue_list: QueueList, limit: int, cursor: str | None = None) -> tuple[list[DownloadItem], str | None]:
    """Up to ``limit`` items of a list after ``cursor``, and the cursor of the next page (None at the end)."""
    page = queue_list.page(limit, decode_cursor(queue_list, cursor) if cursor else None)
    if len(page) <= limit:
        return page, None
    return page[:limit], encode_cursor(queue_list.sort_key(page[limit - 1]))


def status(limit: int = DEFAULT_LIST_LIMIT, cursors: dict[str, str] | None = None) -> dict[str, Any]:
    """The queue as the dashboard shows it: one page of each list, the lists' sizes and next cursors, and stats.

    ``cursors`` maps a list name to the ``next_cursor`` an earlier response gave for it.
    """
    cursors = cursors or {}
    counts = state_counts()
    result: dict[str, Any] = {"state": queue_state()}
    pages: dict[str, dict[str, Any]] = {}
    now = timezone.now()
    blocked = blocked_sites(now)
    for queue_list in QUEUE_LISTS:
        items, next_cursor = list_page(queue_list, limit, cursors.get(queue_list.name))
        result[queue_list.name] = [item_data(item, wait_reason(item, blocked, now)) for item in items]
        pages[queue_list.name] = {"count": queue_list.count(counts), "next_cursor": next_cursor}
    result["pages"] = pages
    result["stats"] = stats(counts)
    return result


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


def workers_by_node() -> list[dict[str, Any]]:
    """Live workers grouped by node, each with the downloads it runs now (label and progress).

    Raises a Redis error when Redis is unreachable (as :func:`live_workers`).
    """
    workers = live_workers()
    running_ids = {entry.get("item_id") for worker in workers for entry in worker.get("active") or []}
    items = {item.pk: item for item in DownloadItem.objects.filter(pk__in=[i for i in running_ids if i is not None])}
    nodes: dict[str, list[dict[str, Any]]] = {}
    for worker in workers:
        doing = [
            {
                "item_id": item.pk,
                "label": item.label,
                "state": item.state,
                "progress_percent": item.progress_percent,
                "speed": item.speed,
                "hoster": item.hoster or None,
            }
            for entry in worker.get("active") or []
            if (item := items.get(entry.get("item_id"))) is not None
        ]
        nodes.setdefault(str(worker.get("node") or "?"), []).append(
            {
                "name": worker.get("name"),
                "concurrency": worker.get("concurrency"),
                "stopping": bool(worker.get("stopping")),
                "age_seconds": worker.get("age_seconds"),
                "doing": doing,
            }
        )
    return [{"node": node, "workers": members} for node, members in sorted(nodes.items())]


def latest_failures(episode_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per episode, its newest download that failed: the error and when (episodes without one are left out)."""
    failures: dict[int, dict[str, Any]] = {}
    rows = (
        DownloadItem.objects.filter(episode_id__in=episode_ids, state=ItemState.FAILED)
        .order_by("episode_id", F("finished_at").desc(nulls_last=True), "-id")
        .values_list("episode_id", "last_error", "finished_at", "pk")
    )
    for episode_id, error, finished_at, item_id in rows:
        failures.setdefault(episode_id, {"item_id": item_id, "error": error, "at": finished_at})
    return failures
