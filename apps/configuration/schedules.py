"""The beat schedules that follow the owner's settings (django-celery-beat ``PeriodicTask`` rows).

Beat runs the DatabaseScheduler, so rows written here take effect without
restarting beat. :func:`sync_periodic_tasks` is idempotent; it runs after every
settings change that touches a schedule and after ``migrate`` (defaults).
"""

from __future__ import annotations

import json
import logging
from datetime import time

from django.conf import settings as django_settings
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from aniworld_site import tasks
from apps.configuration import defaults
from apps.configuration.models import Settings

logger = logging.getLogger(__name__)

CHECK_NEW_EPISODES = "aniworld: check monitored series for new episodes"
NIGHTLY_RESCAN = "aniworld: nightly library rescan"
PRUNE_HISTORY = "aniworld: prune old queue history"
MANAGED_TASK_NAMES = (CHECK_NEW_EPISODES, NIGHTLY_RESCAN, PRUNE_HISTORY)

PRUNE_HISTORY_AT = time(4, 45)

SCHEDULE_FIELDS = frozenset(
    {"check_new_episodes_hours", "nightly_rescan_enabled", "nightly_rescan_time", "history_retention_days"}
)


def _daily(at: time) -> CrontabSchedule:
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute=str(at.minute),
        hour=str(at.hour),
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=django_settings.TIME_ZONE,
    )
    return schedule


def _every_hours(hours: int) -> IntervalSchedule:
    schedule, _ = IntervalSchedule.objects.get_or_create(every=hours, period=IntervalSchedule.HOURS)
    return schedule


def _put(name: str, task: str, *, enabled: bool, description: str, **schedule) -> PeriodicTask:
    """Create or update one managed row, writing only when something differs (each write reloads beat)."""
    wanted = {
        "task": task,
        "queue": tasks.MAINTENANCE_QUEUE,
        "enabled": enabled,
        "description": description,
        "interval": None,
        "crontab": None,
        "kwargs": json.dumps({}),
        **schedule,
    }
    row = PeriodicTask.objects.filter(name=name).first()
    if row is None:
        return PeriodicTask.objects.create(name=name, **wanted)
    if any(getattr(row, attribute) != value for attribute, value in wanted.items()):
        for attribute, value in wanted.items():
            setattr(row, attribute, value)
        row.save()
    return row


def sync_periodic_tasks(current: Settings | None = None) -> dict[str, PeriodicTask]:
    """Make the managed PeriodicTask rows match the settings; returns them by name."""
    if current is None:
        from apps.configuration.selectors import get_settings

        current = get_settings()
    hours = current.check_new_episodes_hours
    retention = current.history_retention_days
    with transaction.atomic():
        rows = {
            CHECK_NEW_EPISODES: _put(
                CHECK_NEW_EPISODES,
                tasks.CHECK_NEW_EPISODES,
                enabled=hours > 0,
                description="Looks for new episodes of monitored series; queues them when auto-queue is on.",
                interval=_every_hours(hours or defaults.DEFAULT_CHECK_NEW_EPISODES_HOURS),
            ),
            NIGHTLY_RESCAN: _put(
                NIGHTLY_RESCAN,
                tasks.RESCAN_LIBRARY,
                enabled=current.nightly_rescan_enabled,
                description="Rescans the library folder for added, changed and removed files.",
                crontab=_daily(current.nightly_rescan_time),
            ),
            PRUNE_HISTORY: _put(
                PRUNE_HISTORY,
                tasks.PRUNE_HISTORY,
                enabled=retention > 0,
                description="Deletes finished queue items older than the history retention.",
                crontab=_daily(PRUNE_HISTORY_AT),
            ),
        }
    logger.info(
        "beat schedules synced: new-episode check %s, rescan %s, prune %s",
        f"every {hours} h" if hours else "off",
        current.nightly_rescan_time.strftime("%H:%M") if current.nightly_rescan_enabled else "off",
        f"after {retention} days" if retention else "off",
    )
    return rows
