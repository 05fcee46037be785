"""The owner's settings (one row) and the history of every change made to them."""

from __future__ import annotations

from django.db import models

from apps.configuration import defaults


class Settings(models.Model):
    """The single settings record (primary key 1). Read it through ``apps.configuration.selectors``.

    An empty ``library_path`` means the deployment default (``ANIWORLD_LIBRARY_DIR`` or
    ``<data>/library``); ``revision`` grows by one on every saved change and is what
    other processes compare to know their cached copy is stale.
    """

    library_path = models.CharField(max_length=1024, blank=True, default="")
    max_concurrent_downloads = models.PositiveSmallIntegerField(default=defaults.DEFAULT_MAX_CONCURRENT_DOWNLOADS)
    max_retries = models.PositiveSmallIntegerField(default=defaults.DEFAULT_MAX_RETRIES)
    retry_backoff_seconds = models.PositiveIntegerField(default=defaults.DEFAULT_RETRY_BACKOFF_SECONDS)
    language_preference = models.JSONField(default=defaults.default_language_preference)
    hoster_preference = models.JSONField(default=defaults.default_hoster_preference)
    hoster_order_automatic = models.BooleanField(
        default=False, help_text="Try the hosters that worked best recently first (the hoster scorecard)."
    )
    naming_template = models.CharField(max_length=512, default=defaults.DEFAULT_NAMING_TEMPLATE)
    provider_urls = models.JSONField(default=defaults.default_provider_urls)
    request_rates = models.JSONField(default=defaults.default_request_rates)

    check_new_episodes_hours = models.PositiveSmallIntegerField(default=defaults.DEFAULT_CHECK_NEW_EPISODES_HOURS)
    auto_queue_new_episodes = models.BooleanField(default=False)
    nightly_rescan_enabled = models.BooleanField(default=True)
    nightly_rescan_time = models.TimeField(default=defaults.DEFAULT_NIGHTLY_RESCAN_TIME)
    history_retention_days = models.PositiveIntegerField(default=defaults.DEFAULT_HISTORY_RETENTION_DAYS)

    speed_limit_bytes = models.PositiveBigIntegerField(default=0)

    notification_urls = models.JSONField(default=defaults.default_notification_urls)
    notification_events = models.JSONField(default=defaults.default_notification_events)

    jellyfin_url = models.CharField(max_length=512, blank=True, default="")
    jellyfin_api_key = models.CharField(max_length=256, blank=True, default="")
    plex_url = models.CharField(max_length=512, blank=True, default="")
    plex_token = models.CharField(max_length=256, blank=True, default="")
    plex_section_id = models.CharField(max_length=32, blank=True, default="")

    setup_completed_at = models.DateTimeField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "settings"
        verbose_name_plural = "settings"

    def __str__(self) -> str:
        return f"Aniworld settings (revision {self.revision})"


class SettingsChange(models.Model):
    """One changed field: who, when, old -> new. Secret values are stored masked."""

    changed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=150)
    field = models.CharField(max_length=64)
    old_value = models.JSONField(null=True)
    new_value = models.JSONField(null=True)
    revision = models.PositiveIntegerField()

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.field} changed by {self.actor} at {self.changed_at:%Y-%m-%d %H:%M}"
