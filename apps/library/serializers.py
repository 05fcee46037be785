"""Shapes of the anime API (requests validated here, responses built from models and selectors)."""

from __future__ import annotations

import re

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aniworld_site.limits import database_id_field
from apps.catalog.types import LANGUAGE_CHOICES, SITE_CHOICES
from apps.library import selectors
from apps.library.models import Episode, ScanRun, Series, UnmatchedFile
from apps.queue import selectors as queue_selectors
from apps.queue.serializers import PRIORITY_NAMES

SLUG_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,199}$")


def cover_url_for(series: Series) -> str | None:
    return reverse("library-series-cover", kwargs={"pk": series.pk}) if series.cover else None


class SeriesListSerializer(serializers.ModelSerializer):
    episode_count = serializers.IntegerField(read_only=True)
    present_count = serializers.IntegerField(read_only=True)
    missing_count = serializers.IntegerField(read_only=True, help_text="Episodes without a file (not ignored).")
    cover = serializers.SerializerMethodField(help_text="URL of the locally stored cover, if any.")

    class Meta:
        model = Series
        fields = [
            "id",
            "site",
            "slug",
            "title",
            "alternative_titles",
            "year",
            "folder",
            "cover",
            "genres",
            "monitored",
            "episode_count",
            "present_count",
            "missing_count",
            "last_refreshed",
            "created_at",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_cover(self, series: Series) -> str | None:
        return cover_url_for(series)


class EpisodeFailureSerializer(serializers.Serializer):
    item_id = serializers.IntegerField(help_text="The failed queue item.")
    error = serializers.CharField()
    at = serializers.DateTimeField(allow_null=True, help_text="When it failed.")


class EpisodeSerializer(serializers.ModelSerializer):
    status = serializers.CharField(help_text="present, upgradable, missing, unavailable, queued, downloading, ignored")
    status_reason = serializers.CharField()
    best_language = serializers.CharField(allow_null=True, help_text="Best wanted language the site offers.")
    last_failure = EpisodeFailureSerializer(
        allow_null=True, required=False, help_text="While missing: its newest failed download (series detail only)."
    )

    class Meta:
        model = Episode
        fields = [
            "id",
            "number",
            "title_de",
            "title_en",
            "languages_available",
            "state",
            "status",
            "status_reason",
            "best_language",
            "file_path",
            "file_size",
            "file_language",
            "last_failure",
        ]


class SeasonSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    is_specials = serializers.BooleanField(help_text="Season 0 holds films and specials.")
    episodes = EpisodeSerializer(many=True)


class SeriesDetailSerializer(SeriesListSerializer):
    upgradable_count = serializers.SerializerMethodField()
    language_preference_effective = serializers.SerializerMethodField()
    seasons = serializers.SerializerMethodField()

    class Meta(SeriesListSerializer.Meta):
        fields = [
            *SeriesListSerializer.Meta.fields,
            "description",
            "imdb_id",
            "external_ids",
            "cover_url",
            "language_preference",
            "language_preference_effective",
            "upgradable_count",
            "seasons",
        ]

    def _assessed(self, series: Series) -> list[tuple[Episode, selectors.EpisodeAssessment]]:
        if not hasattr(self, "_assessment_cache"):
            preference = selectors.language_preference(series)
            self._assessment_cache = [
                (episode, selectors.assess_episode(episode, preference))
                for episode in selectors.series_episodes(series)
            ]
        return self._assessment_cache

    def get_upgradable_count(self, series: Series) -> int:
        return sum(
            1 for _e, assessed in self._assessed(series) if assessed.status == selectors.EpisodeStatus.UPGRADABLE
        )

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_language_preference_effective(self, series: Series) -> list[str]:
        return [language.value for language in selectors.language_preference(series)]

    @extend_schema_field(SeasonSerializer(many=True))
    def get_seasons(self, series: Series) -> list[dict]:
        seasons: dict[int, list[dict]] = {}
        assessed_episodes = self._assessed(series)
        failures = queue_selectors.latest_failures([episode.pk for episode, _a in assessed_episodes])
        for episode, assessed in assessed_episodes:
            data = _episode_data(episode, assessed)
            # Why it is still missing: the newest failed download, while the episode has no file.
            data["last_failure"] = failures.get(episode.pk) if assessed.status == "missing" else None
            seasons.setdefault(episode.season.number, []).append(data)
        for number in series.seasons.values_list("number", flat=True):
            seasons.setdefault(number, [])
        return [
            {"number": number, "is_specials": number == 0, "episodes": episodes}
            for number, episodes in sorted(seasons.items())
        ]


def _episode_data(episode: Episode, assessed: selectors.EpisodeAssessment) -> dict:
    return {
        "id": episode.pk,
        "number": episode.number,
        "title_de": episode.title_de,
        "title_en": episode.title_en,
        "languages_available": episode.languages_available,
        "state": episode.state,
        "status": assessed.status,
        "status_reason": assessed.reason,
        "best_language": assessed.best_language.value if assessed.best_language else None,
        "file_path": episode.file_path,
        "file_size": episode.file_size,
        "file_language": episode.file_language,
    }


class SeriesUpdateSerializer(serializers.ModelSerializer):
    language_preference = serializers.ListField(
        child=serializers.ChoiceField(choices=LANGUAGE_CHOICES),
        allow_null=True,
        required=False,
        help_text="Best first; null or [] to use the global preference.",
    )

    class Meta:
        model = Series
        fields = ["monitored", "language_preference"]

    def validate_language_preference(self, value: list[str] | None) -> list[str] | None:
        if value and len(set(value)) != len(value):
            raise serializers.ValidationError("Each language may appear only once.")
        return value or None


class DownloadRequestSerializer(serializers.Serializer):
    episode_ids = serializers.ListField(child=database_id_field(), required=False, allow_empty=False, max_length=5000)
    all_missing = serializers.BooleanField(required=False, default=False)
    priority = serializers.ChoiceField(choices=PRIORITY_NAMES, required=False, default="normal")

    def validate(self, attrs: dict) -> dict:
        has_ids = bool(attrs.get("episode_ids"))
        if has_ids == attrs["all_missing"]:
            raise serializers.ValidationError('Send either "episode_ids" or "all_missing": true (exactly one).')
        return attrs


class DownloadResultSerializer(serializers.Serializer):
    queued = serializers.ListField(child=serializers.DictField())
    skipped = serializers.ListField(child=serializers.DictField(), help_text='Each {"episode_id", "reason"}.')


class AddSeriesRequestSerializer(serializers.Serializer):
    site = serializers.ChoiceField(choices=SITE_CHOICES, required=False)
    slug = serializers.RegexField(
        SLUG_PATTERN,
        required=False,
        max_length=200,
        error_messages={"invalid": "A slug has only letters, digits and '-' (as in the site's URL)."},
    )
    url = serializers.CharField(required=False, max_length=1000)

    def validate(self, attrs: dict) -> dict:
        by_slug = "site" in attrs and "slug" in attrs
        if by_slug == ("url" in attrs) or (not by_slug and ("site" in attrs or "slug" in attrs)):
            raise serializers.ValidationError('Send either "site" and "slug", or "url".')
        return attrs


class TaskStartedSerializer(serializers.Serializer):
    task_id = serializers.CharField()


class ScanRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScanRun
        fields = ["id", "task_id", "status", "full", "started_at", "finished_at", "stats", "problems", "error"]


class ScanStatusSerializer(serializers.Serializer):
    running = serializers.BooleanField()
    last_scan = ScanRunSerializer(allow_null=True)


class UnmatchedFileSerializer(serializers.ModelSerializer):
    class Meta:
        model = UnmatchedFile
        fields = ["id", "path", "size", "reason", "first_seen", "last_seen"]


class RefreshResultSerializer(serializers.Serializer):
    refreshed = serializers.BooleanField()
    seasons = serializers.IntegerField(required=False)
    episodes_created = serializers.IntegerField(required=False)
    episodes_updated = serializers.IntegerField(required=False)
    new_episode_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    last_refreshed = serializers.DateTimeField(allow_null=True)
    series = SeriesDetailSerializer()


class SourceAttemptSerializer(serializers.Serializer):
    item_id = serializers.IntegerField(help_text="The queue item of that attempt.")
    result = serializers.ChoiceField(["completed", "in_progress", "failed", "cancelled", "interrupted"])
    at = serializers.DateTimeField()
    error = serializers.CharField(allow_null=True, help_text="The item's last error (kept for its latest source only).")


class SourceHosterSerializer(serializers.Serializer):
    hoster = serializers.CharField(help_text="As the site names it, e.g. VOE.")
    supported = serializers.BooleanField(help_text="Aniworld has a resolver for this hoster.")
    last_attempts = SourceAttemptSerializer(many=True, help_text="Newest first, at most three.")


class SourceLanguageSerializer(serializers.Serializer):
    language = serializers.ChoiceField(LANGUAGE_CHOICES)
    label = serializers.CharField()
    hosters = SourceHosterSerializer(many=True)


class EpisodeSourcesSerializer(serializers.Serializer):
    series_id = serializers.IntegerField()
    episode_id = serializers.IntegerField()
    season = serializers.IntegerField(help_text="0 = films/specials")
    number = serializers.IntegerField()
    site = serializers.ChoiceField(SITE_CHOICES)
    url = serializers.CharField(help_text="The episode page on the catalog site.")
    title_de = serializers.CharField(allow_blank=True)
    title_en = serializers.CharField(allow_blank=True)
    languages = SourceLanguageSerializer(many=True, help_text="In the order the episode page lists them.")
    fetched_at = serializers.DateTimeField(help_text="When the episode page was read.")
    cached = serializers.BooleanField(help_text="Answered from the few-minute cache.")


class IgnoreRequestSerializer(serializers.Serializer):
    episode_ids = serializers.ListField(child=database_id_field(), allow_empty=False, max_length=5000)
    ignored = serializers.BooleanField(help_text="true: never count them missing; false: undo (missing or present).")


class IgnoreResponseSerializer(serializers.Serializer):
    changed = serializers.IntegerField()


class DeletedFileSerializer(serializers.Serializer):
    episode_id = serializers.IntegerField()
    state = serializers.CharField(help_text="The episode's state now (missing, unless ignored or queued).")
    deleted = serializers.CharField(help_text="The deleted file, relative to the library.")
