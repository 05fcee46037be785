"""Celery tasks. Each task is thin: it calls a service and is safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="workers.ping", queue="maintenance")
def ping() -> str:
    """A no-op used by health checks and tests to prove a worker executes tasks."""
    return "pong"
