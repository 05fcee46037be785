"""Read-only history of settings changes in the admin (settings themselves change through the API,
which validates them and tells every process)."""

from django.contrib import admin

from apps.configuration.models import SettingsChange


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
