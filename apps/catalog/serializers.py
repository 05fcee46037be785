"""Request and response shapes of the search API."""

from __future__ import annotations

from rest_framework import serializers

from apps.catalog.types import SITE_CHOICES

MAX_QUERY_LENGTH = 100


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=MAX_QUERY_LENGTH, trim_whitespace=True, allow_blank=False)
    site = serializers.ChoiceField(choices=SITE_CHOICES, required=False)
    check_now = serializers.BooleanField(required=False, default=False)


class SearchResultSerializer(serializers.Serializer):
    site = serializers.ChoiceField(choices=SITE_CHOICES)
    slug = serializers.CharField()
    reference = serializers.CharField(help_text='"site:slug", accepted by POST /api/search/add')
    title = serializers.CharField()
    url = serializers.URLField()
    year = serializers.IntegerField(allow_null=True)
    description = serializers.CharField(allow_blank=True)
    cover_url = serializers.URLField(allow_null=True)


class SearchWarningSerializer(serializers.Serializer):
    site = serializers.ChoiceField(choices=SITE_CHOICES)
    code = serializers.CharField()
    message = serializers.CharField()
    retry_at = serializers.DateTimeField(allow_null=True)


class SearchResponseSerializer(serializers.Serializer):
    query = serializers.CharField()
    sites = serializers.ListField(child=serializers.CharField())
    results = SearchResultSerializer(many=True)
    warnings = SearchWarningSerializer(many=True)
    cached = serializers.BooleanField()


SITE_STATES = ["reachable", "blocked", "unreachable", "not_configured"]


class SiteStateSerializer(serializers.Serializer):
    site = serializers.ChoiceField(choices=SITE_CHOICES)
    label = serializers.CharField(help_text="The site's name for people, e.g. aniworld.to.")
    state = serializers.ChoiceField(
        choices=SITE_STATES,
        help_text="reachable (no block known, or it just answered), blocked (until retry_at), unreachable (a check "
        "just failed without a block), not_configured (no valid address is set).",
    )
    detail = serializers.CharField(help_text="One sentence for people: the block's message, or why it is unusable.")
    base_url = serializers.CharField(allow_null=True)
    retry_at = serializers.DateTimeField(allow_null=True, help_text="While blocked: when Aniworld asks it again.")
    checked = serializers.BooleanField(help_text="A request was sent just now to learn this state.")


class SitesResponseSerializer(serializers.Serializer):
    sites = SiteStateSerializer(many=True)
