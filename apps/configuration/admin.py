"""Read-only history of settings changes in the admin (settings themselves change through the API,
which validates them and tells every process); Celery's periodic-task tables are hidden."""

import contextlib

from django.contrib import admin
from django_celery_beat import models as beat

from apps.configuration.models import SettingsChange

# Celery's periodic-task tables are Aniworld's own business: schedules are edited on the settings page
# (apps.configuration.schedules writes them); editing the rows by hand would be overwritten or break them.
for beat_model in (
    beat.PeriodicTask,
    beat.IntervalSchedule,
    beat.CrontabSchedule,
    beat.SolarSchedule,
    beat.ClockedSchedule,
):
    with contextlib.suppress(admin.sites.NotRegistered):
        admin.site.unregister(beat_model)


@admin.register(SettingsChange)
class SettingsChangeAdmin(admin.ModelAdmin):
    list_display = ("changed_at", "actor", "field", "old_value", "new_value", "revision")
    list_filter = ("field", "actor")
    date_hierarchy = "changed_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
