"""The Celery app shared by web (to enqueue) and worker nodes (to run tasks)."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init
from kombu import Exchange, Queue

from aniworld_site.tasks import MAINTENANCE_QUEUE, QUEUE_NAMES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aniworld_site.settings")

TASK_MODULES = ["workers.library", "workers.downloads", "workers.schedules"]

app = Celery("aniworld", include=TASK_MODULES)
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each queue has its own direct exchange and routing key, so a message lands in exactly one queue.
app.conf.task_queues = [Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUE_NAMES]
app.conf.task_default_exchange = MAINTENANCE_QUEUE
app.conf.task_default_routing_key = MAINTENANCE_QUEUE

import apps.realtime.worker_signals  # noqa: E402,F401  (announces workers joining and leaving)
import workers.node  # noqa: E402,F401  (heartbeats and the clean stop of download workers)


@worker_process_init.connect
def forget_inherited_database_pools(**_kwargs: object) -> None:
    """A forked worker child must not use the parent's pooled connections (their sockets are shared).

    Dropping the pools without closing them sends nothing on those sockets; the child opens its own.
    """
    from django.db.backends.postgresql.base import DatabaseWrapper

    DatabaseWrapper._connection_pools.clear()
