"""Response shape of GET /api/dashboard (what /api/docs shows)."""

from __future__ import annotations

from rest_framework import serializers

from apps.catalog.serializers import SiteStateSerializer


class DiskSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="At least the minimum free space (HEALTH_MIN_FREE_BYTES) is left.")
    detail = serializers.CharField()
    free_bytes = serializers.IntegerField(required=False)
    total_bytes = serializers.IntegerField(required=False)
    minimum_free_bytes = serializers.IntegerField(required=False)


class LibraryTotalsSerializer(serializers.Serializer):
    series = serializers.IntegerField()
    episodes = serializers.IntegerField()
    present = serializers.IntegerField()
    missing = serializers.IntegerField(help_text="Episodes without a file (ignored ones not counted).")
    ignored = serializers.IntegerField()
    upgradable = serializers.IntegerField(help_text="Files whose language ranks below one the site now offers.")


class WorkerTaskSerializer(serializers.Serializer):
    item_id = serializers.IntegerField()
    label = serializers.CharField()
    state = serializers.CharField()
    progress_percent = serializers.FloatField(allow_null=True)
    speed = serializers.FloatField(allow_null=True, help_text="Bytes per second.")
    hoster = serializers.CharField(allow_null=True)


class NodeWorkerSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="Celery node name.")
    concurrency = serializers.IntegerField(allow_null=True)
    stopping = serializers.BooleanField()
    age_seconds = serializers.FloatField(allow_null=True, help_text="Seconds since its last heartbeat.")
    doing = WorkerTaskSerializer(many=True, help_text="Downloads it runs now.")


class NodeSerializer(serializers.Serializer):
    node = serializers.CharField(help_text="ANIWORLD_NODE_NAME of the host.")
    workers = NodeWorkerSerializer(many=True)


class DashboardSerializer(serializers.Serializer):
    disk = DiskSerializer(help_text="Free space on the library volume.")
    library = LibraryTotalsSerializer()
    nodes = NodeSerializer(many=True, help_text="Live workers (from their heartbeats) by node.")
    workers_error = serializers.CharField(allow_null=True)
    sites = SiteStateSerializer(many=True)
