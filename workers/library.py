"""Celery tasks for the library area (thin: they call services)."""
