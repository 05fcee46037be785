"""Celery tasks for the downloads area (thin: they call apps.queue).

``download_item`` is sent by the dispatcher to ``downloads.high|normal|low``
with a task id the item row remembers; a copy that is not the current one (a
redelivery after the reaper moved the item on) claims nothing and exits, so
running it twice is safe. Late acknowledgement and a prefetch of one are set
globally, so a task of a killed worker is redelivered instead of lost.
"""

from __future__ import annotations

from celery import shared_task

from apps.queue import services
from workers import download

DISPATCH_TICK_TASK = "workers.downloads.dispatch_tick"
DOWNLOAD_TASK = "workers.downloads.download_item"


@shared_task(name=DOWNLOAD_TASK, bind=True, acks_late=True, ignore_result=True)
def download_item(self, item_id: int) -> str:
    return download.run_item(int(item_id), task_id=self.request.id or "")


@shared_task(name=DISPATCH_TICK_TASK, queue="maintenance", ignore_result=True)
def dispatch_tick() -> dict[str, list[int]]:
    """Beat, every few seconds: requeue items whose lease expired, then start what may start."""
    return services.tick()
