"""What the owner has: series, their seasons and episodes, and what the scanner saw on disk.

Paths stored here (``Series.folder``, ``Series.cover``, ``Episode.file_path``,
``UnmatchedFile.path``, ``ScannedDirectory.path``) are relative to the library
root, with ``/`` separators, so every node can mount the library elsewhere.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from apps.catalog.types import LANGUAGE_CHOICES, SITE_CHOICES, Language, Site


class Series(models.Model):
    site = models.CharField(max_length=16, choices=SITE_CHOICES)
    slug = models.CharField(max_length=200)
    title = models.CharField(max_length=500)
    alternative_titles = models.JSONField(default=list, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    folder = models.CharField(max_length=1000, blank=True, help_text="Folder relative to the library root.")
    cover = models.CharField(max_length=1000, blank=True, help_text="Local cover image, relative to the library root.")
    cover_url = models.CharField(max_length=1000, blank=True)
    description = models.TextField(blank=True)
    genres = models.JSONField(default=list, blank=True)
    imdb_id = models.CharField(max_length=32, blank=True)
    external_ids = models.JSONField(default=dict, blank=True)
    monitored = models.BooleanField(default=True)
    language_preference = models.JSONField(
        null=True, blank=True, help_text="Language codes, best first; empty uses the global preference."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_refreshed = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["title", "id"]
        verbose_name_plural = "series"
        constraints = [
            models.UniqueConstraint(fields=["site", "slug"], name="library_series_unique_site_slug"),
            models.UniqueConstraint(fields=["folder"], condition=~Q(folder=""), name="library_series_unique_folder"),
            models.CheckConstraint(
                condition=Q(site__in=[site.value for site in Site]), name="library_series_site_known"
            ),
            models.CheckConstraint(condition=~Q(slug=""), name="library_series_slug_not_empty"),
            models.CheckConstraint(
                condition=Q(year__isnull=True) | Q(year__gte=1900, year__lte=2200), name="library_series_year_sane"
            ),
        ]
        indexes = [models.Index(fields=["title"], name="library_series_title_idx")]

    def __str__(self) -> str:
        return f"{self.title} ({self.year})" if self.year else self.title


class Season(models.Model):
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="seasons")
    number = models.PositiveSmallIntegerField(help_text="0 = films and specials.")

    class Meta:
        ordering = ["series", "number"]
        constraints = [
            models.UniqueConstraint(fields=["series", "number"], name="library_season_unique_number"),
            models.CheckConstraint(condition=Q(number__gte=0), name="library_season_number_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.series} - {'Films/Specials' if self.number == 0 else f'Season {self.number}'}"


class EpisodeState(models.TextChoices):
    MISSING = "missing", "Missing"
    QUEUED = "queued", "Queued"
    DOWNLOADING = "downloading", "Downloading"
    PRESENT = "present", "Present"
    IGNORED = "ignored", "Ignored"


class Episode(models.Model):
    season = models.ForeignKey(Season, on_delete=models.CASCADE, related_name="episodes")
    number = models.PositiveIntegerField()
    title_de = models.CharField(max_length=500, blank=True)
    title_en = models.CharField(max_length=500, blank=True)
    languages_available = models.JSONField(default=list, blank=True)
    file_path = models.CharField(max_length=4096, blank=True)
    file_size = models.BigIntegerField(null=True, blank=True)
    # None = unknown language (a file found by the scanner without a language tag).
    file_language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, null=True, blank=True)  # noqa: DJ001
    state = models.CharField(max_length=16, choices=EpisodeState.choices, default=EpisodeState.MISSING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["season", "number"]
        constraints = [
            models.UniqueConstraint(fields=["season", "number"], name="library_episode_unique_number"),
            models.CheckConstraint(condition=Q(state__in=EpisodeState.values), name="library_episode_state_known"),
            models.CheckConstraint(
                condition=Q(file_language__isnull=True) | Q(file_language__in=[lang.value for lang in Language]),
                name="library_episode_file_language_known",
            ),
            models.CheckConstraint(
                condition=Q(file_size__isnull=True) | Q(file_size__gte=0), name="library_episode_size_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(state=EpisodeState.PRESENT) | ~Q(file_path=""),
                name="library_episode_present_has_file",
            ),
            # One file is one episode's: two episodes recording one path means one overwrote the other.
            models.UniqueConstraint(
                fields=["file_path"], condition=~Q(file_path=""), name="library_episode_unique_file_path"
            ),
        ]
        indexes = [
            models.Index(fields=["state"], name="library_episode_state_idx"),
            models.Index(fields=["file_path"], name="library_episode_file_path_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.season.series} - S{self.season.number:02}E{self.number:02}"

    @property
    def title(self) -> str:
        return self.title_de or self.title_en


class UnmatchedFile(models.Model):
    """A video file the scanner found but could not place: shown to the owner instead of ignored."""

    path = models.CharField(max_length=4096, unique=True)
    size = models.BigIntegerField(default=0)
    reason = models.CharField(max_length=300)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return self.path


class ScannedDirectory(models.Model):
    """A directory's mtime at the last scan: an unchanged mtime means its entries need no listing."""

    path = models.CharField(max_length=4096, unique=True, help_text="Relative to the library root; '' is the root.")
    mtime_ns = models.BigIntegerField()
    series = models.ForeignKey(Series, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return self.path or "/"


class ScanRun(models.Model):
    """One scan of the library: what it found and what it could not read."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    task_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    full = models.BooleanField(default=False)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    stats = models.JSONField(default=dict, blank=True)
    problems = models.JSONField(default=list, blank=True, help_text="Unreadable folders, refused symlinks, …")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Scan {self.started_at:%Y-%m-%d %H:%M} ({self.status})"
