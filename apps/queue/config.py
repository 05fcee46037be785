"""Every knob the queue reads, in one place.

The owner's settings come from :mod:`apps.configuration.selectors` (which
falls back to the documented defaults before any settings row exists); the
queue's own timings are deployment settings (``QUEUE_*`` in
``aniworld_site/settings.py``, from the ``ANIWORLD_QUEUE_*`` environment variables).
"""

from __future__ import annotations

from django.conf import settings

from apps.configuration.selectors import (
    library_root,
    max_concurrent_downloads,
    max_retries,
    retry_backoff_seconds,
)
from apps.configuration.selectors import speed_limit as _speed_limit_setting

__all__ = [
    "control_check_seconds",
    "dispatch_timeout_seconds",
    "lease_seconds",
    "library_root",
    "max_concurrent_downloads",
    "max_retries",
    "progress_write_seconds",
    "receipt_timeout_seconds",
    "retry_backoff_seconds",
    "speed_limit",
    "unknown_size_estimate_bytes",
]


def speed_limit() -> int | None:
    """Bytes per second for each download; None = unlimited (the setting stores 0 for that)."""
    return _speed_limit_setting() or None


def lease_seconds() -> float:
    """How long a worker's claim on an item lasts without renewal (it renews every few seconds)."""
    return float(settings.QUEUE_LEASE_SECONDS)


def dispatch_timeout_seconds() -> float:
    """How long a dispatched (``queued``) item may wait for a worker before the reaper sends it again."""
    return float(settings.QUEUE_DISPATCH_TIMEOUT_SECONDS)


def receipt_timeout_seconds() -> float:
    """How long a dispatched item may go unreported by every live worker before it is sent again.

    A worker lists the downloads it received (prefetched) or runs in its heartbeat;
    an item none lists after this long lost its message (broker restarted empty).
    """
    return float(settings.QUEUE_RECEIPT_TIMEOUT_SECONDS)


def progress_write_seconds() -> float:
    """How often a running download writes its progress to the database."""
    return float(settings.QUEUE_PROGRESS_WRITE_SECONDS)


def control_check_seconds() -> float:
    """How often a running download checks whether it was cancelled or the queue stopped."""
    return float(settings.QUEUE_CONTROL_CHECK_SECONDS)


def unknown_size_estimate_bytes() -> int:
    """Free space demanded before a download whose size the hoster does not announce."""
    return int(settings.QUEUE_UNKNOWN_SIZE_BYTES)
