"""This worker node in the cluster: its download worker ids, its heartbeat and its clean stop.

Imported by ``aniworld_site/celery.py`` so the Celery signal receivers below are
connected in every worker; they import Django code lazily because this module
loads before Django's app registry is ready.

* **Worker ids** of downloads are ``<ANIWORLD_NODE_NAME>:<pid>:<task id>``, so two
  nodes on one host tell apart in the queue and in the logs.
* **Heartbeat**: the worker's main process writes a record every
  ``ANIWORLD_WORKER_HEARTBEAT_SECONDS`` (node, version, pid, the downloads it runs
  and the ones it received but not started, each as item and task id, free disk
  of the library it sees) through :mod:`apps.queue.heartbeats`; ``/health`` and
  ``GET /api/queue/workers`` answer from those records. The task ids let the
  queue tell a lost worker or a lost message from a slow one without waiting
  for a lease.
* **Healing**: beside the heartbeat, a :class:`QueueHealer` thread runs the queue's
  healing tick (:func:`apps.queue.services.heal`: reap lost downloads, send again
  what no worker received, dispatch) every heartbeat interval, so beat is no
  single point of failure. A cache key added with ``SET NX`` and an expiry of one
  interval lets one worker of the cluster heal per interval (fewer database
  writes); when Redis is down every worker heals, which the control row lock
  makes safe. A stopping worker no longer heals (it would dispatch into a broker
  that may stop with it).
* **Clean stop** (SIGTERM/Ctrl-C, i.e. Celery's warm shutdown): the main process
  raises a flag in memory shared with its pool processes (created before the pool
  forks); each running download notices it on its next control check, stops
  cooperatively, keeps its partial file and hands its item back to the queue
  (:func:`apps.queue.services.release_for_shutdown`), so the next start resumes it
  at once instead of waiting for the lease to expire.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import threading
import time
from datetime import UTC, datetime
from typing import Any

from celery.signals import worker_init, worker_ready, worker_shutdown, worker_shutting_down

logger = logging.getLogger("aniworld.worker")

DOWNLOAD_TASK = "workers.downloads.download_item"
STOP_CHECK_SECONDS = 0.5  # how soon the heartbeat reports that a clean stop began

_stop_flag: Any = None  # a shared-memory byte; set from the worker's main process, read by its pool processes
_publisher: HeartbeatPublisher | None = None
_healer: QueueHealer | None = None
HEAL_THROTTLE_KEY = "queue:heal:due"


def worker_identity(task_id: str) -> str:
    from django.conf import settings

    return f"{settings.NODE_NAME}:{os.getpid()}:{task_id[:12]}"


def shutdown_requested() -> bool:
    """True once this worker began a clean stop (in its main process and in every pool process)."""
    return bool(_stop_flag is not None and _stop_flag.value)


def prepare_shutdown_flag() -> None:
    global _stop_flag
    _stop_flag = multiprocessing.RawValue("b", 0)


def request_shutdown() -> None:
    if _stop_flag is not None:
        _stop_flag.value = 1


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _downloads_in(requests: Any) -> list[dict[str, Any]]:
    found = [
        {"item_id": int(request.args[0]), "task_id": request.id}
        for request in list(requests)
        if request.name == DOWNLOAD_TASK and request.args
    ]
    return sorted(found, key=lambda entry: entry["item_id"])


def active_downloads() -> list[dict[str, Any]]:
    """The download tasks this worker's pool runs now (read in the main process)."""
    from celery.worker import state

    return _downloads_in(state.active_requests)


def reserved_downloads() -> list[dict[str, Any]]:
    """Download tasks this worker received but has not started yet (prefetched; their message is safe)."""
    from celery.worker import state

    return _downloads_in(state.reserved_requests - state.active_requests)


def library_space() -> dict[str, Any]:
    from apps.configuration.selectors import library_root

    root = library_root()
    try:
        usage = shutil.disk_usage(root if root.exists() else root.parent)
    except OSError as exc:
        return {"path": str(root), "error": f"cannot read free space: {exc.strerror or exc}"}
    return {"path": str(root), "free_bytes": usage.free, "total_bytes": usage.total}


def heartbeat_record(name: str, started_at: str, concurrency: int | None) -> dict[str, Any]:
    from django.conf import settings

    return {
        "name": name,
        "node": settings.NODE_NAME,
        "version": settings.VERSION,
        "pid": os.getpid(),
        "concurrency": concurrency,
        "active": active_downloads(),
        "reserved": reserved_downloads(),
        "library": library_space(),
        "stopping": shutdown_requested(),
        "started_at": started_at,
        "last_seen": _now_iso(),
        "interval_seconds": settings.WORKER_HEARTBEAT_SECONDS,
    }


class HeartbeatPublisher(threading.Thread):
    """Writes this worker's heartbeat until stopped; a Redis or database hiccup only skips a beat."""

    def __init__(self, name: str, concurrency: int | None):
        super().__init__(name="aniworld-heartbeat", daemon=True)
        self.worker_name = name
        self.concurrency = concurrency
        self.started_at = _now_iso()
        self._stop_event = threading.Event()

    def beat(self) -> None:
        from django.db import close_old_connections

        from apps.queue import heartbeats

        try:
            heartbeats.publish(heartbeat_record(self.worker_name, self.started_at, self.concurrency))
        except Exception as exc:
            logger.warning("worker %s: could not write its heartbeat: %s", self.worker_name, exc)
        finally:
            close_old_connections()

    def run(self) -> None:
        from apps.queue import heartbeats

        interval = heartbeats.interval_seconds()
        reported_stopping = False
        last_beat = float("-inf")
        while True:
            stopping = shutdown_requested()
            if time.monotonic() - last_beat >= interval or stopping != reported_stopping:
                self.beat()  # at once when a clean stop begins, so /health shows the worker as stopping
                last_beat, reported_stopping = time.monotonic(), stopping
            if self._stop_event.wait(min(interval, STOP_CHECK_SECONDS)):
                return

    def stop(self) -> None:
        from apps.queue import heartbeats

        self._stop_event.set()
        self.join(timeout=5)
        try:
            heartbeats.forget(self.worker_name)
        except Exception as exc:
            logger.warning("worker %s: could not remove its heartbeat: %s", self.worker_name, exc)


class QueueHealer(threading.Thread):
    """Runs the queue's healing tick every heartbeat interval, at most once per interval cluster-wide."""

    def __init__(self, name: str):
        super().__init__(name="aniworld-queue-healer", daemon=True)
        self.worker_name = name
        self._stop_event = threading.Event()

    def heal_once(self) -> dict[str, list[int]] | None:
        """One healing run, unless another worker healed within the interval or this one is stopping."""
        from django.core.cache import cache
        from django.db import close_old_connections

        from apps.queue import heartbeats, services

        if shutdown_requested():
            return None
        try:
            try:
                due = cache.add(HEAL_THROTTLE_KEY, self.worker_name, timeout=max(1, int(heartbeats.interval_seconds())))
            except Exception:  # Redis down: heal anyway, the control row lock keeps concurrent healers safe
                due = True
            if not due:
                return None
            changed = services.heal()
            if any(changed.values()):
                logger.info("worker %s healed the queue: %s", self.worker_name, changed)
            return changed
        except Exception as exc:
            logger.warning("worker %s: could not heal the queue: %s", self.worker_name, exc)
            return None
        finally:
            close_old_connections()

    def run(self) -> None:
        from apps.queue import heartbeats

        while not self._stop_event.wait(heartbeats.interval_seconds()):
            self.heal_once()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


@worker_init.connect(dispatch_uid="aniworld.node.worker_init")
def _on_worker_init(**kwargs: Any) -> None:
    prepare_shutdown_flag()  # before the pool forks, so every pool process shares it


@worker_ready.connect(dispatch_uid="aniworld.node.worker_ready")
def _on_worker_ready(sender: Any = None, **kwargs: Any) -> None:
    global _publisher, _healer
    name = str(getattr(sender, "hostname", None) or sender)
    controller = getattr(sender, "controller", None)
    _publisher = HeartbeatPublisher(name, getattr(controller, "concurrency", None))
    _publisher.start()
    _healer = QueueHealer(name)
    _healer.start()
    _resume_pending()


def _resume_pending() -> None:
    """Start what a clean stop handed back (and anything else waiting) now, not on beat's next tick."""
    from django.db import close_old_connections

    from apps.queue import services

    started = time.monotonic()
    try:
        dispatched = services.dispatch()
        if dispatched:
            logger.info("worker ready: dispatched %s in %.2fs", dispatched, time.monotonic() - started)
    except Exception as exc:
        logger.warning("worker ready: could not dispatch the queue: %s", exc)
    finally:
        close_old_connections()


@worker_shutting_down.connect(dispatch_uid="aniworld.node.worker_shutting_down")
def _on_worker_shutting_down(**kwargs: Any) -> None:
    request_shutdown()  # runs inside the main process's signal handler: only flip the shared flag here


@worker_shutdown.connect(dispatch_uid="aniworld.node.worker_shutdown")
def _on_worker_shutdown(**kwargs: Any) -> None:
    if _healer is not None:
        _healer.stop()
    if _publisher is not None:
        _publisher.stop()
