"""System events for the dashboard: workers joining or lost, disk nearly full, a site blocking us, scans.

Each helper publishes one ``system_info`` / ``system_warning`` / ``system_error`` frame
(``{"code", "message", "details"}``) to the ``system`` room. Repeating conditions (a
full disk, a blocking site) are announced at most once per cooldown across all
processes, so a beat task can call the checks every minute.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from django.core.cache import cache

from apps.realtime.events import EventType, Room
from apps.realtime.publish import publish

logger = logging.getLogger("aniworld.realtime")

DISK_WARNING_FREE_FRACTION = 0.05
DISK_WARNING_FREE_BYTES = 2 * 1024**3
DISK_COOLDOWN_SECONDS = 3600
SITE_BLOCKING_COOLDOWN_SECONDS = 900

_LEVELS = {"info": EventType.SYSTEM_INFO, "warning": EventType.SYSTEM_WARNING, "error": EventType.SYSTEM_ERROR}


def system_event(
    level: str,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    *,
    rooms: list[str] | None = None,
    cooldown_key: str | None = None,
    cooldown_seconds: int = 0,
) -> bool:
    """Publish a system message; with a cooldown key, only the first call per cooldown goes out."""
    if cooldown_key and cooldown_seconds and not _first_in_cooldown(cooldown_key, cooldown_seconds):
        return False
    data = {"code": code, "message": message, "details": details or {}}
    return publish(_LEVELS[level], data, rooms or [Room.SYSTEM.value])


def _first_in_cooldown(key: str, seconds: int) -> bool:
    try:
        return bool(cache.add(f"realtime:cooldown:{key}", 1, timeout=seconds))
    except Exception as error:  # the cache is Redis; if it is down, announcing twice is the lesser evil
        logger.debug("realtime: cooldown check failed: %s", error)
        return True


def worker_joined(worker: str) -> bool:
    return system_event("info", "worker_joined", f"Worker {worker} is online.", {"worker": worker})


def worker_left(worker: str) -> bool:
    """A worker shut down cleanly (its active downloads are handed back to the queue)."""
    return system_event("warning", "worker_left", f"Worker {worker} shut down.", {"worker": worker})


def worker_lost(worker: str, detail: str = "") -> bool:
    """A worker vanished without shutting down (killed, host lost) — e.g. found by the lease reaper."""
    message = f"Worker {worker} was lost{': ' + detail if detail else ''}; its downloads will be retried."
    return system_event(
        "error", "worker_lost", message, {"worker": worker}, cooldown_key=f"worker_lost:{worker}", cooldown_seconds=300
    )


def check_disk_space(
    path: Path | str,
    *,
    min_free_fraction: float = DISK_WARNING_FREE_FRACTION,
    min_free_bytes: int = DISK_WARNING_FREE_BYTES,
) -> bool:
    """Warn (once an hour) when the library disk has less free space than both limits allow.

    Returns True if the disk is nearly full, whether or not a warning went out this time.
    For the health check or a beat task.
    """
    target = Path(path)
    while not target.exists() and target != target.parent:
        target = target.parent
    usage = shutil.disk_usage(target)
    nearly_full = usage.free < min_free_bytes and usage.free < usage.total * min_free_fraction
    if nearly_full:
        free_gib = usage.free / 1024**3
        system_event(
            "warning",
            "disk_nearly_full",
            f"The library disk is nearly full: {free_gib:.1f} GiB free.",
            {"path": str(path), "free_bytes": usage.free, "total_bytes": usage.total},
            cooldown_key=f"disk:{target}",
            cooldown_seconds=DISK_COOLDOWN_SECONDS,
        )
    return nearly_full


def site_blocking(site: str, detail: str, status_code: int | None = None) -> bool:
    """A catalog site or hoster refuses us (HTTP 403/429, a captcha page…); announced once per 15 min per site."""
    return system_event(
        "warning",
        "site_blocking",
        f"{site} is blocking requests: {detail}",
        {"site": site, "status_code": status_code},
        cooldown_key=f"site_blocking:{site}",
        cooldown_seconds=SITE_BLOCKING_COOLDOWN_SECONDS,
    )


def scan_finished(summary: dict[str, Any]) -> bool:
    """A library scan finished; ``summary`` counts what it found (series, episodes, missing…)."""
    parts = ", ".join(f"{value} {name.replace('_', ' ')}" for name, value in summary.items())
    message = "Library scan finished" + (f": {parts}." if parts else ".")
    return system_event("info", "scan_finished", message, summary, rooms=[Room.SYSTEM.value, Room.LIBRARY.value])
