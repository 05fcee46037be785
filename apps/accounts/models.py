"""Failed-login counters, in the database so the lockout works without Redis and survives its restart."""

from __future__ import annotations

from django.db import models


class LoginThrottle(models.Model):
    """Failed logins of one scope: an address (IPv6: its /64), a known browser, or everyone together."""

    key = models.CharField(max_length=120, unique=True, help_text="address:<ip or /64>, device:<id> or everyone")
    failures = models.PositiveIntegerField(default=0)
    window_started = models.DateTimeField(help_text="First failure of the current count.")
    last_failure = models.DateTimeField(db_index=True)
    blocked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.failures} failed"
