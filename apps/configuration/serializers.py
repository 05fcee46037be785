"""Shapes of the configuration API for the OpenAPI schema.

Validation itself lives in :mod:`apps.configuration.validation` (it must see
every field at once and the stored settings); these serializers document.
"""

from __future__ import annotations

from rest_framework import serializers

from apps.catalog.types import LANGUAGE_CHOICES
from apps.configuration import defaults
from apps.library import naming


class SiteUrlsSerializer(serializers.Serializer):
    aniworld = serializers.URLField(required=False, help_text="Base URL of aniworld.to (anime).")
    sto = serializers.URLField(required=False, help_text="Base URL of s.to (series).")


RATE_LIMITS = {"min_value": defaults.MIN_REQUEST_RATE, "max_value": defaults.MAX_REQUEST_RATE}


class SiteRatesSerializer(serializers.Serializer):
    aniworld = serializers.FloatField(required=False, **RATE_LIMITS, help_text="Requests per second.")
    sto = serializers.FloatField(required=False, **RATE_LIMITS, help_text="Requests per second.")


class ConfigUpdateSerializer(serializers.Serializer):
    """Any subset of the settings; fields left out stay as they are."""

    library_path = serializers.RegexField(
        r"^\s*/", required=False, max_length=1024, help_text="Absolute path of the library folder."
    )
    max_concurrent_downloads = serializers.IntegerField(
        required=False, min_value=1, max_value=defaults.MAX_CONCURRENT_DOWNLOADS
    )
    max_retries = serializers.IntegerField(required=False, min_value=0, max_value=defaults.MAX_RETRIES)
    retry_backoff_seconds = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=defaults.MAX_RETRY_BACKOFF_SECONDS,
        help_text="Wait before the first retry; doubles on each further retry.",
    )
    language_preference = serializers.ListField(
        child=serializers.ChoiceField(choices=LANGUAGE_CHOICES),
        required=False,
        min_length=1,
        help_text="Most wanted first.",
    )
    hoster_preference = serializers.ListField(
        child=serializers.ChoiceField(choices=list(defaults.known_hosters())), required=False, min_length=1
    )
    hoster_order_automatic = serializers.BooleanField(
        required=False,
        help_text=(
            "Try the hosters that worked best recently first: the hoster order above, rearranged per site by "
            "the last 7 days' success rate (recent attempts weigh more), then throughput; hosters without "
            "recent attempts keep their place. The scores are in /api/queue/stats under `hosters`."
        ),
    )
    naming_template = serializers.CharField(
        required=False,
        help_text="Placeholders: " + " ".join(f"{{{name}}}" for name in naming.PLACEHOLDERS),
    )
    provider_urls = SiteUrlsSerializer(required=False)
    request_rates = SiteRatesSerializer(required=False)
    check_new_episodes_hours = serializers.IntegerField(
        required=False, min_value=0, max_value=defaults.MAX_CHECK_NEW_EPISODES_HOURS, help_text="0 = never."
    )
    auto_queue_new_episodes = serializers.BooleanField(required=False)
    nightly_rescan_enabled = serializers.BooleanField(required=False)
    nightly_rescan_time = serializers.RegexField(
        r"^\s*([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-9]{2})?\s*$", required=False, help_text="HH:MM, server time zone."
    )
    history_retention_days = serializers.IntegerField(
        required=False, min_value=0, max_value=defaults.MAX_HISTORY_RETENTION_DAYS, help_text="0 = keep forever."
    )
    speed_limit_bytes = serializers.IntegerField(
        required=False, min_value=0, max_value=defaults.MAX_SPEED_LIMIT_BYTES, help_text="Bytes/s; 0 = unlimited."
    )
    notification_urls = serializers.ListField(
        child=serializers.CharField(), required=False, max_length=20, help_text="Apprise URLs; shown masked."
    )
    notification_events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(defaults.NOTIFICATION_EVENTS)), required=False
    )
    jellyfin_url = serializers.CharField(required=False, allow_blank=True, help_text="Jellyfin or Emby base URL.")
    jellyfin_api_key = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=256,
        help_text=f"Shown as {defaults.SECRET_MASK}; send that back to keep it.",
    )
    plex_url = serializers.CharField(required=False, allow_blank=True)
    plex_token = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=256,
        help_text=f"Shown as {defaults.SECRET_MASK}; send that back to keep it.",
    )
    plex_section_id = serializers.RegexField(
        r"^[0-9]{0,32}$", required=False, allow_blank=True, help_text="Empty = all sections."
    )


class ConfigSerializer(ConfigUpdateSerializer):
    setup_completed = serializers.BooleanField(read_only=True)
    revision = serializers.IntegerField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)


class LiveCheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    detail = serializers.CharField()
    data = serializers.DictField()
    label = serializers.CharField(help_text="What the settings page calls it.")


class ValidationReportSerializer(serializers.Serializer):
    valid = serializers.BooleanField(help_text="True when every field is valid and every live check passed.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="By field; a mapping field's problem with one key also comes under `field.key` "
        "(e.g. `provider_urls.aniworld`), for the input of that key.",
    )
    checks = serializers.DictField(child=LiveCheckSerializer())


class SetupSerializer(serializers.Serializer):
    library_path = serializers.RegexField(r"^\s*/", max_length=1024, help_text="Absolute path; created when missing.")
    language_preference = serializers.ListField(child=serializers.ChoiceField(choices=LANGUAGE_CHOICES), min_length=1)


class HistoryQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=500, default=100)


class SettingsChangeSerializer(serializers.Serializer):
    changed_at = serializers.DateTimeField()
    actor = serializers.CharField()
    field = serializers.CharField()
    old_value = serializers.JSONField()
    new_value = serializers.JSONField()
    revision = serializers.IntegerField()


class NamingPreviewRequestSerializer(serializers.Serializer):
    naming_template = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=4096)


class NamingPreviewSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField())
    preview = serializers.CharField(allow_null=True, help_text="An episode's path, relative to the library.")
    film_preview = serializers.CharField(allow_null=True, help_text="A film's path.")
    sample = serializers.CharField(help_text="Which series the example uses (one of the owner's when there is one).")
