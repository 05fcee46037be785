"""The Celery app shared by web (to enqueue) and worker nodes (to run tasks)."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aniworld_site.settings")

TASK_MODULES = ["workers.tasks", "workers.library", "workers.downloads", "workers.schedules"]

app = Celery("aniworld", include=TASK_MODULES)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [
    Queue("downloads.high"),
    Queue("downloads.normal"),
    Queue("downloads.low"),
    Queue("maintenance"),
]
