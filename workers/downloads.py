"""Celery tasks for the downloads area (thin: they call services)."""
