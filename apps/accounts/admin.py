"""Failed-login counters in the admin: see who is locked out, delete a row to lift its lockout."""

from __future__ import annotations

from django.contrib import admin

from apps.accounts.models import LoginThrottle


@admin.register(LoginThrottle)
class LoginThrottleAdmin(admin.ModelAdmin):
    list_display = ["key", "failures", "last_failure", "blocked_until"]
    search_fields = ["key"]
    readonly_fields = ["key", "failures", "window_started", "last_failure", "blocked_until"]

    def has_add_permission(self, request) -> bool:
        return False
