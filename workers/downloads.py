"""Celery tasks for the downloads area (thin: they call apps.queue).

``download_item`` is sent by the dispatcher to ``downloads.high|normal|low``
with a task id the item row remembers; a copy that is not the current one (a
redelivery after the reaper moved the item on) claims nothing and exits, so
running it twice is safe. Late acknowledgement and a prefetch of one are set
globally, so a task of a killed worker is redelivered instead of lost.
"""

from __future__ import annotations

from celery import shared_task

from aniworld_site import tasks
from apps.queue import services
from workers import download


@shared_task(name=tasks.DOWNLOAD_ITEM, bind=True, acks_late=True, ignore_result=True)
def download_item(self, item_id: int) -> str:
    return download.run_item(int(item_id), task_id=self.request.id or "")


@shared_task(name=tasks.DISPATCH_TICK, queue=tasks.MAINTENANCE_QUEUE, ignore_result=True)
def dispatch_tick() -> dict[str, list[int]]:
    """Beat, every few seconds: requeue items whose lease expired, then start what may start."""
    return services.tick()
