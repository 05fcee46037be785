"""Celery task names and queue names, and the one way the web side sends work: by name, after commit.

A leaf module (it imports nothing from the project), so services can send work
without importing a task module: the tasks in ``workers/`` register under these
names, and :func:`send_on_commit` sends by name (see docs/architecture.md,
"Module layers"). The name strings never change: beat's periodic-task rows and
messages in flight use them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

# --- Celery queues: each has its own direct exchange and routing key (aniworld_site/celery.py) ---
DOWNLOAD_QUEUES = {"HIGH": "downloads.high", "NORMAL": "downloads.normal", "LOW": "downloads.low"}
MAINTENANCE_QUEUE = "maintenance"
QUEUE_NAMES = (*DOWNLOAD_QUEUES.values(), MAINTENANCE_QUEUE)

# --- task names (workers/*.py register under these) -------------------------------------------------
DOWNLOAD_ITEM = "workers.downloads.download_item"
DISPATCH_TICK = "workers.downloads.dispatch_tick"
LIBRARY_SCAN = "library.scan"
CHECK_NEW_EPISODES = "workers.schedules.check_new_episodes"
RESCAN_LIBRARY = "workers.schedules.rescan_library"
PRUNE_HISTORY = "workers.schedules.prune_history"
SEND_NOTIFICATION = "workers.schedules.send_notification"
REFRESH_MEDIA_SERVERS = "workers.schedules.refresh_media_servers"


def send_on_commit(
    name: str,
    *,
    args: Sequence[Any] = (),
    kwargs: dict[str, Any] | None = None,
    queue: str = MAINTENANCE_QUEUE,
    task_id: str | None = None,
    on_failure: Callable[[], object] | None = None,
) -> str:
    """Send task ``name`` once the current transaction commits (at once outside one); returns its task id.

    A broker that cannot be reached is logged, not raised: the database is the
    truth. ``on_failure`` then runs (after the commit, outside the transaction),
    so the caller can undo what assumed the message left, e.g. the queue returns
    the item to pending instead of holding a download slot for it.
    """
    task_id = task_id or str(uuid.uuid4())
    message = (name, list(args), dict(kwargs or {}), queue, task_id)
    transaction.on_commit(lambda: _deliver(message, on_failure))
    return task_id


def _deliver(message: tuple[str, list[Any], dict[str, Any], str, str], on_failure: Callable[[], object] | None) -> None:
    name, task_id = message[0], message[4]
    try:
        _send(*message)
    except Exception as exc:  # broker down
        logger.error("could not send task %s (%s) to Celery: %s", name, task_id, exc)
        if on_failure is None:
            return
        try:
            on_failure()
        except Exception:
            logger.exception("task %s (%s): handling the failed send failed too", name, task_id)


def _send(name: str, args: list[Any], kwargs: dict[str, Any], queue: str, task_id: str) -> None:
    current_app.signature(name, args=args, kwargs=kwargs, queue=queue).apply_async(task_id=task_id)
