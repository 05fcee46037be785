"""Django admin for the library: series, seasons, episodes, unmatched files and scan runs."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html

from apps.catalog.types import CatalogError
from apps.library import selectors, services
from apps.library.models import Episode, EpisodeState, ScanRun, Season, Series, UnmatchedFile
from apps.library.serializers import cover_url_for
from apps.queue import services as queue


def _start_scan(modeladmin: admin.ModelAdmin, request: HttpRequest) -> None:
    try:
        task_id = services.start_scan()
    except services.ScanAlreadyRunning:
        modeladmin.message_user(request, "A library scan is already running.", messages.WARNING)
        return
    modeladmin.message_user(request, f"Library scan started (task {task_id}).", messages.SUCCESS)


def _queue(modeladmin: admin.ModelAdmin, request: HttpRequest, episode_ids: list[int]) -> None:
    if not episode_ids:
        modeladmin.message_user(request, "Nothing to download: no missing episodes selected.", messages.INFO)
        return
    result = queue.enqueue_episodes(episode_ids, "normal")
    queued, skipped = len(result.get("queued", [])), result.get("skipped", [])
    modeladmin.message_user(request, f"Queued {queued} episode(s).", messages.SUCCESS)
    if skipped:
        reasons = "; ".join(f"{item['episode_id']}: {item['reason']}" for item in skipped[:10])
        modeladmin.message_user(request, f"Skipped {len(skipped)}: {reasons}", messages.WARNING)


class SeasonInline(admin.TabularInline):
    model = Season
    extra = 0
    fields = ["number", "episode_total"]
    readonly_fields = ["episode_total"]
    show_change_link = True

    @admin.display(description="Episodes")
    def episode_total(self, season: Season) -> int:
        return season.episodes.count()


class EpisodeInline(admin.TabularInline):
    model = Episode
    extra = 0
    fields = ["number", "title_de", "title_en", "state", "file_language", "file_path", "file_size_shown"]
    readonly_fields = ["file_path", "file_size_shown"]
    show_change_link = True

    @admin.display(description="File size", ordering="file_size")
    def file_size_shown(self, episode: Episode) -> str:
        return human_size(episode.file_size)


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ["cover_thumbnail", "title", "year", "site", "monitored", "missing", "last_refreshed"]
    list_display_links = ["cover_thumbnail", "title"]
    list_filter = ["site", "monitored", "year"]
    search_fields = ["title", "slug", "alternative_titles", "folder", "imdb_id"]
    readonly_fields = ["cover_preview", "created_at", "updated_at", "last_refreshed"]
    inlines = [SeasonInline]
    actions = ["rescan_library", "refresh_from_site", "download_missing", "ignore_missing"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Series]:
        return selectors.series_with_counts()

    @admin.display(description="Missing", ordering="missing_count")
    def missing(self, series: Series) -> int:
        return series.missing_count

    @admin.display(description="Cover")
    def cover_thumbnail(self, series: Series) -> str:
        url = cover_url_for(series)
        if not url:
            return "-"
        return format_html('<img src="{}" alt="" style="height:60px;border-radius:3px">', url)

    @admin.display(description="Cover")
    def cover_preview(self, series: Series) -> str:
        url = cover_url_for(series)
        return format_html('<img src="{}" alt="" style="max-height:240px">', url) if url else "No cover stored."

    @admin.action(description="Rescan the library")
    def rescan_library(self, request: HttpRequest, queryset: QuerySet[Series]) -> None:
        _start_scan(self, request)

    @admin.action(description="Refresh from the catalog site")
    def refresh_from_site(self, request: HttpRequest, queryset: QuerySet[Series]) -> None:
        refreshed = 0
        for series in queryset:
            try:
                services.refresh_series(series)
            except CatalogError as exc:
                self.message_user(request, f"{series.title}: {exc or 'catalog not available'}", messages.ERROR)
            else:
                refreshed += 1
        if refreshed:
            self.message_user(request, f"Refreshed {refreshed} series.", messages.SUCCESS)

    @admin.action(description="Download missing episodes")
    def download_missing(self, request: HttpRequest, queryset: QuerySet[Series]) -> None:
        episode_ids = []
        for series in queryset:
            episode_ids += services.episodes_to_download(series, None, all_missing=True)
        _queue(self, request, episode_ids)

    @admin.action(description="Mark missing episodes ignored")
    def ignore_missing(self, request: HttpRequest, queryset: QuerySet[Series]) -> None:
        episode_ids = list(
            Episode.objects.filter(season__series__in=queryset, state=EpisodeState.MISSING).values_list("id", flat=True)
        )
        count = services.set_episodes_ignored(episode_ids)
        self.message_user(request, f"Marked {count} episode(s) ignored.", messages.SUCCESS)


@admin.register(Season)
class SeasonAdmin(admin.ModelAdmin):
    list_display = ["series", "number"]
    list_filter = ["series__site"]
    search_fields = ["series__title"]
    list_select_related = ["series"]
    inlines = [EpisodeInline]


@admin.register(Episode)
class EpisodeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "title_de", "state", "file_language", "file_size_shown"]
    list_filter = ["state", "file_language", "season__series__site"]
    search_fields = ["title_de", "title_en", "file_path", "season__series__title"]
    list_select_related = ["season__series"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["download_selected", "mark_ignored", "unignore"]

    @admin.display(description="File size", ordering="file_size")
    def file_size_shown(self, episode: Episode) -> str:
        return human_size(episode.file_size)

    @admin.action(description="Download selected episodes")
    def download_selected(self, request: HttpRequest, queryset: QuerySet[Episode]) -> None:
        _queue(self, request, list(queryset.values_list("id", flat=True)))

    @admin.action(description="Mark ignored")
    def mark_ignored(self, request: HttpRequest, queryset: QuerySet[Episode]) -> None:
        count = services.set_episodes_ignored(list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"Marked {count} episode(s) ignored.", messages.SUCCESS)

    @admin.action(description="Stop ignoring (back to present/missing)")
    def unignore(self, request: HttpRequest, queryset: QuerySet[Episode]) -> None:
        ids = list(queryset.filter(state=EpisodeState.IGNORED).values_list("id", flat=True))
        count = services.set_episodes_ignored(ids, ignored=False)
        self.message_user(request, f"{count} episode(s) no longer ignored.", messages.SUCCESS)


@admin.register(UnmatchedFile)
class UnmatchedFileAdmin(admin.ModelAdmin):
    list_display = ["path", "size_shown", "reason", "last_seen"]
    search_fields = ["path", "reason"]
    readonly_fields = ["path", "size_shown", "reason", "first_seen", "last_seen"]
    exclude = ["size"]

    @admin.display(description="Size", ordering="size")
    def size_shown(self, unmatched: UnmatchedFile) -> str:
        return human_size(unmatched.size)


@admin.register(ScanRun)
class ScanRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "status", "full", "finished_at", "task_id"]
    list_filter = ["status"]
    readonly_fields = ["task_id", "status", "full", "started_at", "finished_at", "stats", "problems", "error"]
    actions = ["rescan_library"]

    @admin.action(description="Rescan the library")
    def rescan_library(self, request: HttpRequest, queryset: QuerySet[ScanRun]) -> None:
        _start_scan(self, request)


def human_size(size: int | None) -> str:
    """Sizes as people read them (1.4 GB), not as a count of bytes."""
    return filesizeformat(size) if size is not None else "—"
