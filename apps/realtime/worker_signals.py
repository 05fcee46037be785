"""Announce Celery workers joining and leaving on the dashboard.

Imported by ``aniworld_site/celery.py``; the receivers import Django code lazily
because this module loads before Django's app registry is ready.
"""

from __future__ import annotations

from typing import Any

from celery.signals import worker_ready, worker_shutdown


def _worker_name(sender: Any) -> str:
    return str(getattr(sender, "hostname", None) or sender)


@worker_ready.connect(dispatch_uid="aniworld.realtime.worker_ready")
def announce_worker_ready(sender: Any = None, **kwargs: Any) -> None:
    from apps.realtime.system import worker_joined

    worker_joined(_worker_name(sender))


@worker_shutdown.connect(dispatch_uid="aniworld.realtime.worker_shutdown")
def announce_worker_shutdown(sender: Any = None, **kwargs: Any) -> None:
    from apps.realtime.system import worker_left

    worker_left(_worker_name(sender))
