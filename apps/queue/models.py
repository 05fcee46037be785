"""The download queue: one row per requested episode download, plus the queue's global state.

Only :mod:`apps.queue.services` changes these rows.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from apps.catalog.types import LANGUAGE_CHOICES, SITE_CHOICES


class Priority(models.IntegerChoices):
    """Stored as a rank: the dispatcher takes the lowest number first."""

    HIGH = 0, "High"
    NORMAL = 1, "Normal"
    LOW = 2, "Low"

    @classmethod
    def from_name(cls, name: str) -> Priority:
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ValueError(f"Unknown priority {name!r}; use high, normal or low.") from None

    @property
    def api_name(self) -> str:
        return self.name.lower()


class ItemState(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for the dispatcher (maybe until next_attempt_at)
    QUEUED = "queued", "Queued"  # dispatched: a Celery task is on its way to a worker
    DOWNLOADING = "downloading", "Downloading"  # a worker holds the lease
    COMPLETED = "completed", "Completed"
    PAUSED = "paused", "Paused"  # held by the owner; the dispatcher skips it
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# Items that count against max_concurrent_downloads.
ACTIVE_STATES = (ItemState.QUEUED, ItemState.DOWNLOADING)
# Items that still want their episode downloaded: at most one per episode.
OPEN_STATES = (ItemState.PENDING, ItemState.QUEUED, ItemState.DOWNLOADING, ItemState.PAUSED)
FINISHED_STATES = (ItemState.COMPLETED, ItemState.FAILED, ItemState.CANCELLED)


class DownloadItem(models.Model):
    episode = models.ForeignKey("library.Episode", on_delete=models.CASCADE, related_name="download_items")
    site = models.CharField(max_length=16, choices=SITE_CHOICES)
    label = models.CharField(max_length=600, blank=True, help_text="Series and episode, for lists and history.")
    language = models.CharField(  # noqa: DJ001  (None = the owner's language preference)
        max_length=8, choices=LANGUAGE_CHOICES, null=True, blank=True, help_text="Wanted language; empty = preference."
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    position = models.BigIntegerField(default=0, help_text="Order within a priority (lower first).")
    state = models.CharField(max_length=16, choices=ItemState.choices, default=ItemState.PENDING)

    attempts = models.PositiveIntegerField(default=0, help_text="Failed attempts so far.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    tried_sources = models.JSONField(default=list, blank=True, help_text='"hoster:language" tried, oldest first.')
    partial_source = models.CharField(max_length=80, blank=True, help_text="Source the partial file came from.")

    hoster = models.CharField(max_length=40, blank=True, help_text="Hoster of the current or last attempt.")
    language_used = models.CharField(max_length=8, blank=True)
    bytes_done = models.BigIntegerField(default=0)
    bytes_total = models.BigIntegerField(null=True, blank=True)
    speed = models.FloatField(null=True, blank=True, help_text="Bytes per second.")
    eta_seconds = models.IntegerField(null=True, blank=True)
    file_path = models.CharField(max_length=4096, blank=True, help_text="Final file, relative to the library.")

    worker_id = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["priority", "position", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode"],
                condition=Q(state__in=[state.value for state in OPEN_STATES]),
                name="queue_one_open_item_per_episode",
            ),
            models.CheckConstraint(condition=Q(state__in=ItemState.values), name="queue_item_state_known"),
            models.CheckConstraint(condition=Q(priority__in=Priority.values), name="queue_item_priority_known"),
            models.CheckConstraint(condition=Q(bytes_done__gte=0), name="queue_item_bytes_not_negative"),
        ]
        indexes = [
            models.Index(fields=["state", "priority", "position", "created_at"], name="queue_item_dispatch_idx"),
            models.Index(fields=["state", "lease_expires_at"], name="queue_item_lease_idx"),
            models.Index(fields=["state", "finished_at", "id"], name="queue_item_history_order_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.label or self.episode_id} ({self.state})"

    @property
    def progress_percent(self) -> float | None:
        if not self.bytes_total:
            return 100.0 if self.state == ItemState.COMPLETED else None
        return round(min(100.0, 100.0 * self.bytes_done / self.bytes_total), 1)


class QueueState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    STOPPED = "stopped", "Stopped"


class QueueControl(models.Model):
    """The single row holding the queue's global state (and the dispatcher's lock)."""

    ROW_ID = 1

    state = models.CharField(max_length=16, choices=QueueState.choices, default=QueueState.RUNNING)
    blocked_sites = models.JSONField(default=dict, blank=True, help_text="site -> ISO time until which it blocks us.")
    next_position = models.BigIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(state__in=QueueState.values), name="queue_control_state_known"),
            models.CheckConstraint(condition=Q(id=1), name="queue_control_single_row"),
        ]

    def __str__(self) -> str:
        return f"queue {self.state}"


class QueueTotals(models.Model):
    """Lifetime download totals: one row, kept when history is cleared or pruned.

    Only the worker-side completion and failure services in :mod:`apps.queue.services` update it.
    """

    ROW_ID = 1

    completed = models.PositiveBigIntegerField(default=0, help_text="Downloads completed, ever.")
    failed = models.PositiveBigIntegerField(default=0, help_text="Downloads that failed for good, ever.")
    bytes_completed = models.PositiveBigIntegerField(default=0, help_text="Bytes of every completed download.")
    timed_bytes = models.PositiveBigIntegerField(default=0, help_text="Bytes of completed downloads with a duration.")
    timed_seconds = models.FloatField(default=0.0, help_text="Their transfer time in seconds (for average speed).")

    class Meta:
        verbose_name_plural = "queue totals"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="queue_totals_single_row")]

    def __str__(self) -> str:
        return f"{self.completed} completed, {self.failed} failed"
