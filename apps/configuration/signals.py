"""Signals other apps may listen to (e.g. the queue re-runs its dispatcher when concurrency changes)."""

from django.dispatch import Signal

# Sent after a settings change is committed, in the process that saved it.
# Arguments: ``revision`` (int) and ``fields`` (list of changed field names).
settings_changed = Signal()
