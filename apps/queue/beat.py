"""The queue's beat job, kept as a django-celery-beat ``PeriodicTask`` row (created after ``migrate``)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError

from aniworld_site.tasks import DISPATCH_TICK, MAINTENANCE_QUEUE

logger = logging.getLogger(__name__)

DISPATCH_TICK_NAME = "aniworld: download queue dispatcher tick and lease reaper"
DISPATCH_TICK_SECONDS = 5


def install_periodic_tasks(**kwargs: Any) -> None:
    """Create or update the dispatcher tick (every 5 s: reap expired leases, then dispatch). Idempotent."""
    try:
        from django_celery_beat.models import IntervalSchedule, PeriodicTask

        schedule, _ = IntervalSchedule.objects.get_or_create(
            every=DISPATCH_TICK_SECONDS, period=IntervalSchedule.SECONDS
        )
        wanted = {
            "task": DISPATCH_TICK,
            "interval": schedule,
            "queue": MAINTENANCE_QUEUE,
            "enabled": True,
            "expire_seconds": 4 * DISPATCH_TICK_SECONDS,  # a tick nobody ran in time is dropped, not piled up
            "description": "Requeues items whose worker lease expired and starts pending downloads.",
        }
        task, created = PeriodicTask.objects.get_or_create(name=DISPATCH_TICK_NAME, defaults=wanted)
        if not created and any(getattr(task, field) != value for field, value in wanted.items()):
            for field, value in wanted.items():
                setattr(task, field, value)
            task.save()
    except DatabaseError as exc:  # beat tables not migrated in this database (e.g. a partial migrate)
        logger.warning("could not install the queue's periodic task: %s", exc)
