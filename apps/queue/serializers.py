"""Request validation and response shapes of the queue API (also what /api/docs shows)."""

from __future__ import annotations

from rest_framework import serializers

from aniworld_site.limits import MAX_DATABASE_ID, database_id_field
from apps.catalog.types import LANGUAGE_CHOICES, SITE_CHOICES
from apps.queue.models import ItemState, QueueState
from apps.scorecard.models import FAILURES

PRIORITY_NAMES = ["high", "normal", "low"]
MAX_IDS = 10_000


class AddRequest(serializers.Serializer):
    episode_ids = serializers.ListField(
        child=database_id_field(), min_length=1, max_length=MAX_IDS, help_text="Library episode ids."
    )
    priority = serializers.ChoiceField(choices=PRIORITY_NAMES, default="normal")
    language = serializers.ChoiceField(
        choices=LANGUAGE_CHOICES, required=False, allow_null=True, help_text="Only this language; omit for preference."
    )


class IdsRequest(serializers.Serializer):
    ids = serializers.ListField(child=database_id_field(), min_length=1, max_length=MAX_IDS)


class RetryRequest(serializers.Serializer):
    ids = serializers.ListField(
        child=database_id_field(),
        required=False,
        max_length=MAX_IDS,
        help_text="Items to retry; omit to retry every failed item.",
    )


class ReorderRequest(serializers.Serializer):
    item_id = database_id_field()
    new_position = serializers.IntegerField(
        min_value=0,
        max_value=MAX_DATABASE_ID,
        help_text="0-based position among the pending items of the same priority.",
    )


class PriorityRequest(serializers.Serializer):
    priority = serializers.ChoiceField(choices=PRIORITY_NAMES)


class WaitReason(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["site_blocked", "retry"], help_text="site_blocked: its catalog site blocks us; retry: after an error."
    )
    site = serializers.CharField()
    until = serializers.DateTimeField(help_text="When it is tried next.")
    message = serializers.CharField(help_text='For people, e.g. "aniworld.to is blocking us, next try 14:32 UTC".')


class ItemResponse(serializers.Serializer):
    id = serializers.IntegerField()
    episode_id = serializers.IntegerField()
    label = serializers.CharField()
    site = serializers.CharField()
    language = serializers.CharField(allow_null=True)
    language_used = serializers.CharField(allow_null=True)
    priority = serializers.ChoiceField(choices=PRIORITY_NAMES)
    position = serializers.IntegerField()
    state = serializers.ChoiceField(choices=ItemState.choices)
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField(allow_null=True)
    hoster = serializers.CharField(allow_null=True)
    bytes_done = serializers.IntegerField()
    bytes_total = serializers.IntegerField(allow_null=True)
    progress_percent = serializers.FloatField(allow_null=True)
    speed = serializers.FloatField(allow_null=True, help_text="Bytes per second.")
    eta_seconds = serializers.IntegerField(allow_null=True)
    worker_id = serializers.CharField(allow_null=True)
    worker_node = serializers.CharField(allow_null=True, help_text="Name of the node (host) whose worker runs it.")
    wait = WaitReason(
        allow_null=True, help_text="Why a pending item does not start yet (status lists only); null when it may start."
    )
    file_path = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class LifetimeTotals(serializers.Serializer):
    completed = serializers.IntegerField(help_text="Downloads completed, ever (clearing history keeps it).")
    failed = serializers.IntegerField(help_text="Downloads that failed for good, ever.")
    bytes_downloaded = serializers.IntegerField()
    average_speed = serializers.FloatField(allow_null=True, help_text="Bytes per second over every timed download.")
    success_rate = serializers.FloatField(allow_null=True)


class StatsResponse(serializers.Serializer):
    state = serializers.ChoiceField(choices=QueueState.choices)
    counts = serializers.DictField(child=serializers.IntegerField())
    total = serializers.IntegerField()
    active = serializers.IntegerField()
    bytes_downloaded = serializers.IntegerField(help_text="Lifetime: does not shrink when history is cleared.")
    bytes_in_progress = serializers.IntegerField()
    average_speed = serializers.FloatField(allow_null=True, help_text="Lifetime, bytes per second.")
    current_speed = serializers.FloatField()
    success_rate = serializers.FloatField(allow_null=True, help_text="Of the completed and failed items held now.")
    lifetime = LifetimeTotals()


class ListPage(serializers.Serializer):
    count = serializers.IntegerField(help_text="Items in the whole list.")
    next_cursor = serializers.CharField(
        allow_null=True, help_text="Pass as `<list>_cursor` for the next page; null on the last page."
    )


class ListPages(serializers.Serializer):
    active = ListPage()
    pending = ListPage()
    completed = ListPage()
    failed = ListPage()


class StatusResponse(serializers.Serializer):
    state = serializers.ChoiceField(choices=QueueState.choices)
    active = ItemResponse(many=True)
    pending = ItemResponse(many=True)
    completed = ItemResponse(many=True)
    failed = ItemResponse(many=True, help_text="Failed and cancelled items.")
    pages = ListPages()
    stats = StatsResponse()


class SkippedEpisode(serializers.Serializer):
    episode_id = serializers.IntegerField()
    reason = serializers.CharField()


class AddResponse(serializers.Serializer):
    queued = ItemResponse(many=True)
    skipped = SkippedEpisode(many=True)


class RemoveResponse(serializers.Serializer):
    removed = serializers.ListField(child=serializers.IntegerField())
    cancelled = serializers.ListField(child=serializers.IntegerField(), help_text="Active items, now cancelled.")


class QueueStateResponse(serializers.Serializer):
    state = serializers.ChoiceField(choices=QueueState.choices)
    previous = serializers.ChoiceField(choices=QueueState.choices)
    changed = serializers.BooleanField()
    requeued = serializers.ListField(child=serializers.IntegerField())


class ReorderResponse(serializers.Serializer):
    item_id = serializers.IntegerField()
    order = serializers.ListField(child=serializers.IntegerField(), help_text="Pending ids of that priority, in order.")


class ClearResponse(serializers.Serializer):
    deleted = serializers.IntegerField()


class SkippedItem(serializers.Serializer):
    id = serializers.IntegerField()
    reason = serializers.CharField()


class RetryResponse(serializers.Serializer):
    retried = serializers.ListField(child=serializers.IntegerField())
    skipped = SkippedItem(many=True)


class WorkerActiveItem(serializers.Serializer):
    item_id = serializers.IntegerField()
    task_id = serializers.CharField()


class WorkerLibrary(serializers.Serializer):
    path = serializers.CharField()
    free_bytes = serializers.IntegerField(required=False, help_text="Free space of the library as this worker sees it.")
    total_bytes = serializers.IntegerField(required=False)
    error = serializers.CharField(required=False, help_text="Why the free space could not be read.")


class WorkerResponse(serializers.Serializer):
    name = serializers.CharField(help_text="Celery node name, e.g. aniworld@nas1-1-4242.")
    node = serializers.CharField(help_text="ANIWORLD_NODE_NAME of its host (else the host name).")
    version = serializers.CharField()
    pid = serializers.IntegerField()
    concurrency = serializers.IntegerField(allow_null=True)
    active = WorkerActiveItem(many=True, help_text="Downloads it runs now.")
    reserved = WorkerActiveItem(many=True, help_text="Downloads it received but has not started yet.")
    library = WorkerLibrary()
    stopping = serializers.BooleanField(help_text="It is stopping cleanly and hands its downloads back.")
    started_at = serializers.DateTimeField()
    last_seen = serializers.DateTimeField(help_text="Its last heartbeat.")
    age_seconds = serializers.FloatField(allow_null=True, help_text="Seconds since its last heartbeat.")
    interval_seconds = serializers.FloatField(help_text="How often it writes a heartbeat.")


class WorkersResponse(serializers.Serializer):
    workers = WorkerResponse(many=True)
    count = serializers.IntegerField()
    nodes = serializers.ListField(child=serializers.CharField())


class HosterScoreResponse(serializers.Serializer):
    site = serializers.ChoiceField(choices=SITE_CHOICES)
    hoster = serializers.CharField()
    attempts = serializers.IntegerField(help_text="Attempts in the window.")
    successes = serializers.IntegerField()
    failures = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="By kind: " + "; ".join(f"`{outcome.value}`: {outcome.label}" for outcome in FAILURES) + ".",
    )
    success_rate = serializers.FloatField(allow_null=True, help_text="Successes / attempts in the window.")
    score = serializers.FloatField(
        allow_null=True,
        help_text="(weighted successes + 1) / (weighted attempts + 2); each attempt weighs 0.5 ** (age / half-life).",
    )
    average_ttfb_seconds = serializers.FloatField(
        allow_null=True, help_text="From asking the hoster's media server to its first byte."
    )
    throughput = serializers.FloatField(allow_null=True, help_text="Bytes per second of the transfers.")
    last_attempt_at = serializers.DateTimeField()
    parallel_connections = serializers.BooleanField(
        help_text="False while the hoster is remembered as refusing parallel connections (one is used)."
    )


class HosterScorecardResponse(serializers.Serializer):
    automatic_order = serializers.BooleanField(help_text="The owner's `hoster_order_automatic` setting.")
    window_hours = serializers.IntegerField(help_text="Attempts older than this are forgotten.")
    half_life_hours = serializers.FloatField(help_text="An attempt this old counts half in the score.")
    order = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per site, the hoster order the next download follows.",
    )
    scores = HosterScoreResponse(many=True)


class QueueStatsResponse(StatsResponse):
    hosters = HosterScorecardResponse(
        help_text=(
            "The hoster scorecard. With the automatic order on, each site's hosters with attempts in the window "
            "are ordered by score band (tenths), then throughput, then the configured rank; hosters without "
            "attempts keep their configured position."
        )
    )


class TryNowResponse(serializers.Serializer):
    site = serializers.DictField(help_text="The site's state after the fresh check (as in GET /api/catalog/sites).")
    released = serializers.ListField(
        child=serializers.IntegerField(), help_text="Waiting items of that site that may start now."
    )
