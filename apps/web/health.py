"""Health checks for /health: each dependency answers for itself, with a reason when it fails.

The normal check answers in milliseconds: workers are judged by the heartbeats
they write to Redis every few seconds (:mod:`apps.queue.heartbeats`). The deep
check (``/health?deep=1``) adds a real Celery ping, which waits for the replies.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection

from aniworld_site.celery import app as celery_app
from aniworld_site.redis_client import shared_redis
from apps.configuration.selectors import library_root
from apps.queue import heartbeats
from apps.queue.selectors import live_workers

WORKER_PING_TIMEOUT = 1.5


@dataclass
class Check:
    ok: bool
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means "down"
        return Check(False, f"database unreachable: {exc}")
    return Check(True, connection.vendor)


def check_redis() -> Check:
    if not settings.REDIS_URL:
        return Check(False, "REDIS_URL is not set and no embedded Redis is running")
    try:
        started = time.monotonic()
        shared_redis().ping()
        latency_ms = round((time.monotonic() - started) * 1000, 1)
    except Exception as exc:
        return Check(False, f"Redis unreachable: {exc}")
    return Check(True, "ok", {"latency_ms": latency_ms})


def check_workers(redis_ok: bool) -> Check:
    """Live workers from their heartbeats (no round trip to the workers themselves)."""
    if not redis_ok:
        return Check(False, "cannot reach workers: the broker (Redis) is down", {"count": 0})
    try:
        workers = live_workers()
    except Exception as exc:
        return Check(False, f"cannot read worker heartbeats: {exc}", {"count": 0})
    names = [worker["name"] for worker in workers]
    nodes = sorted({worker["node"] for worker in workers})
    data = {"count": len(names), "workers": names, "nodes": nodes, "heartbeats": workers}
    if not workers:
        return Check(False, f"no Celery worker sent a heartbeat in the last {heartbeats.ttl_seconds()}s", data)
    return Check(True, f"{len(names)} worker(s) alive on {len(nodes)} node(s)", data)


def check_workers_ping(redis_ok: bool) -> Check:
    """The deep check: a real Celery broadcast ping (takes up to WORKER_PING_TIMEOUT)."""
    if not redis_ok:
        return Check(False, "cannot reach workers: the broker (Redis) is down", {"count": 0})
    try:
        replies = celery_app.control.ping(timeout=WORKER_PING_TIMEOUT) or []
    except Exception as exc:
        return Check(False, f"worker ping failed: {exc}", {"count": 0})
    names = sorted(name for reply in replies for name in reply)
    if not names:
        return Check(False, "no Celery worker answered a ping", {"count": 0, "workers": []})
    return Check(True, f"{len(names)} worker(s) alive", {"count": len(names), "workers": names})


def check_library() -> tuple[Check, Check]:
    root = library_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".aniworld-health-", delete=True):
            pass
        library = Check(True, "writable", {"path": str(root)})
    except OSError as exc:
        library = Check(False, f"library path {root} is not writable: {exc.strerror or exc}", {"path": str(root)})
    try:
        usage = shutil.disk_usage(root if root.exists() else root.parent)
    except OSError as exc:
        return library, Check(False, f"cannot read free space: {exc}")
    minimum = settings.HEALTH_MIN_FREE_BYTES
    disk = Check(
        usage.free >= minimum,
        "ok" if usage.free >= minimum else f"only {usage.free // 1024**2} MiB free on the library volume",
        {"free_bytes": usage.free, "total_bytes": usage.total, "minimum_free_bytes": minimum},
    )
    return library, disk


def run_checks(*, deep: bool = False) -> dict[str, Any]:
    redis_check = check_redis()
    library, disk = check_library()
    checks = {
        "database": check_database(),
        "redis": redis_check,
        "workers": check_workers(redis_check.ok),
        "library": library,
        "disk": disk,
    }
    if deep:
        checks["worker_ping"] = check_workers_ping(redis_check.ok)
    failing = [name for name, check in checks.items() if not check.ok]
    return {
        "status": "ok" if not failing else "unhealthy",
        "failing": failing,
        "checks": {name: asdict(check) for name, check in checks.items()},
    }
