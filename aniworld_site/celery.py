"""The Celery app shared by web (to enqueue) and worker nodes (to run tasks)."""

from __future__ import annotations

import os

from celery import Celery
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
