"""Celery tasks for the schedules area (thin: they call services)."""
