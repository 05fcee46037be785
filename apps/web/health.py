"""Health checks for /health: each dependency answers for itself, with a reason when it fails."""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import redis
from django.conf import settings
from django.db import connection

from aniworld_site.celery import app as celery_app
from apps.configuration.selectors import library_root

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
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        started = time.monotonic()
        client.ping()
        latency_ms = round((time.monotonic() - started) * 1000, 1)
    except Exception as exc:
        return Check(False, f"Redis unreachable: {exc}")
    return Check(True, "ok", {"latency_ms": latency_ms})


def check_workers(redis_ok: bool) -> Check:
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


def run_checks() -> dict[str, Any]:
    redis_check = check_redis()
    library, disk = check_library()
    checks = {
        "database": check_database(),
        "redis": redis_check,
        "workers": check_workers(redis_check.ok),
        "library": library,
        "disk": disk,
    }
    failing = [name for name, check in checks.items() if not check.ok]
    return {
        "status": "ok" if not failing else "unhealthy",
        "failing": failing,
        "checks": {name: asdict(check) for name, check in checks.items()},
    }
