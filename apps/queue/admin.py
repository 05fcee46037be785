"""Admin for the download queue: browse and act through the queue services (never by editing rows)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.library.admin import human_size
from apps.queue import services
from apps.queue.models import DownloadItem, QueueControl


@admin.register(DownloadItem)
class DownloadItemAdmin(admin.ModelAdmin):
    list_display = ("id", "label", "state", "priority", "position", "attempts", "hoster", "size", "finished_at")
    list_filter = ("state", "priority", "site", "hoster")
    search_fields = ("label", "last_error", "worker_id")
    ordering = ("priority", "position", "id")
    actions = ("cancel_items", "retry_items")

    @admin.display(description="Downloaded", ordering="bytes_done")
    def size(self, item: DownloadItem) -> str:
        done = human_size(item.bytes_done)
        return f"{done} of {human_size(item.bytes_total)}" if item.bytes_total else done

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: DownloadItem | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: DownloadItem | None = None) -> bool:
        return False

    @admin.action(description="Cancel the selected items")
    def cancel_items(self, request: HttpRequest, queryset: QuerySet[DownloadItem]) -> None:
        for item_id in queryset.values_list("id", flat=True):
            services.cancel_item(item_id)
        self.message_user(request, "Cancelled.", messages.SUCCESS)

    @admin.action(description="Retry the selected failed items")
    def retry_items(self, request: HttpRequest, queryset: QuerySet[DownloadItem]) -> None:
        result = services.retry_items(list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"{len(result['retried'])} retried, {len(result['skipped'])} skipped.")


@admin.register(QueueControl)
class QueueControlAdmin(admin.ModelAdmin):
    list_display = ("state", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: QueueControl | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: QueueControl | None = None) -> bool:
        return False
