"""The queue API: thin views over apps.queue.services and apps.queue.selectors."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from redis.exceptions import RedisError
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aniworld_site.errors import ServiceUnavailable
from aniworld_site.schema import ERROR_RESPONSE
from apps.catalog import selectors as catalog_selectors
from apps.catalog import services as catalog
from apps.catalog.types import Site
from apps.queue import selectors, services
from apps.queue import serializers as s
from apps.queue.errors import InvalidQueueRequest
from apps.scorecard import selectors as scorecard

TAG = ["queue"]


def _valid(serializer_class: type, data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class StatusView(APIView):
    @extend_schema(
        tags=TAG,
        summary="The queue: one page of the active, pending, completed and failed items, plus stats",
        description=(
            "Each list is sorted (active and pending in dispatch order, completed and failed newest first) "
            "and paged by its own cursor: `pages.<list>.count` is the list's size and "
            "`pages.<list>.next_cursor` the value to pass as `<list>_cursor` for the next page "
            "(null on the last page). Cursors stay valid while items come and go."
        ),
        parameters=[
            OpenApiParameter(
                "limit", {"type": "integer", "minimum": 1, "maximum": 1000}, description="Items per list (default 200)."
            ),
            *(
                OpenApiParameter(f"{name}_cursor", str, description=f"Continue the {name} list after this cursor.")
                for name in selectors.LIST_NAMES
            ),
        ],
        responses=s.StatusResponse,
    )
    def get(self, request: Request) -> Response:
        try:
            limit = int(request.query_params.get("limit", selectors.DEFAULT_LIST_LIMIT))
        except ValueError:
            limit = -1
        if not 1 <= limit <= 1000:
            raise InvalidQueueRequest("limit must be a number from 1 to 1000.", {"limit": limit})
        cursors = {
            name: request.query_params[f"{name}_cursor"]
            for name in selectors.LIST_NAMES
            if request.query_params.get(f"{name}_cursor")
        }
        return Response(selectors.status(limit, cursors))


class WorkersView(APIView):
    @extend_schema(
        tags=TAG,
        summary="Live workers, from the heartbeats they write every few seconds (by node)",
        responses={200: s.WorkersResponse, 503: ERROR_RESPONSE},
    )
    def get(self, request: Request) -> Response:
        try:
            workers = selectors.live_workers()
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable(f"Redis is unreachable, so worker heartbeats cannot be read: {exc}") from exc
        nodes = sorted({worker["node"] for worker in workers})
        return Response({"workers": workers, "count": len(workers), "nodes": nodes})


class StatsView(APIView):
    @extend_schema(
        tags=TAG,
        summary="Counts, bytes, average speed and success rate, and the hoster scorecard",
        responses=s.QueueStatsResponse,
    )
    def get(self, request: Request) -> Response:
        return Response({**selectors.stats(), "hosters": scorecard.hoster_stats()})


class AddView(APIView):
    @extend_schema(
        tags=TAG,
        summary="Queue episodes (duplicates and episodes already present are reported, not added)",
        request=s.AddRequest,
        responses={201: s.AddResponse, 200: s.AddResponse, 404: ERROR_RESPONSE},
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.AddRequest, request.data)
        result = services.enqueue_episodes(data["episode_ids"], data["priority"], data.get("language"))
        return Response(result, status=status.HTTP_201_CREATED if result["queued"] else status.HTTP_200_OK)


class ItemView(APIView):
    @extend_schema(tags=TAG, summary="One queue item", responses=s.ItemResponse)
    def get(self, request: Request, pk: int) -> Response:
        return Response(selectors.item_data(selectors.get_item(pk)))

    @extend_schema(
        tags=TAG,
        operation_id="api_queue_item_destroy",
        summary="Remove an item (an active download is cancelled)",
        request=None,
        responses={200: s.RemoveResponse},
    )
    def delete(self, request: Request, pk: int) -> Response:
        return Response(services.remove_items([pk]))


class BatchRemoveView(APIView):
    @extend_schema(
        tags=TAG,
        summary="Remove several items (active downloads are cancelled)",
        request=s.IdsRequest,
        responses={200: s.RemoveResponse, 404: ERROR_RESPONSE},
    )
    def delete(self, request: Request) -> Response:
        return Response(services.remove_items(_valid(s.IdsRequest, request.data)["ids"]))


def _state_view(action: Any, summary: str) -> type[APIView]:
    class QueueStateView(APIView):
        @extend_schema(tags=TAG, summary=summary, request=None, responses=s.QueueStateResponse)
        def post(self, request: Request) -> Response:
            return Response(action())

    QueueStateView.__name__ = QueueStateView.__qualname__ = f"{action.__name__.title().replace('_', '')}View"
    return QueueStateView


StartView = _state_view(services.start_queue, "Start processing the queue (idempotent)")
StopView = _state_view(services.stop_queue, "Stop: active downloads go back to pending, keeping partials")
PauseView = _state_view(services.pause_queue, "Pause: active downloads finish, nothing new starts")
ResumeView = _state_view(services.resume_queue, "Resume processing (idempotent)")


class ReorderView(APIView):
    @extend_schema(
        tags=TAG,
        summary="Move a pending item to a new position among the pending items of its priority",
        request=s.ReorderRequest,
        responses={200: s.ReorderResponse, 404: ERROR_RESPONSE},
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.ReorderRequest, request.data)
        order = services.reorder_item(data["item_id"], data["new_position"])
        return Response({"item_id": data["item_id"], "order": order})


class ClearCompletedView(APIView):
    @extend_schema(
        tags=TAG, summary="Delete the completed items from the history", request=None, responses={200: s.ClearResponse}
    )
    def delete(self, request: Request) -> Response:
        return Response({"deleted": services.clear_completed()})


class RetryView(APIView):
    @extend_schema(
        tags=TAG,
        summary="Retry failed items (the given ids, or every failed item)",
        request=s.RetryRequest,
        responses={200: s.RetryResponse, 404: ERROR_RESPONSE},
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.RetryRequest, request.data)
        return Response(services.retry_items(data.get("ids")))


class PriorityView(APIView):
    @extend_schema(
        tags=TAG,
        summary="Change an item's priority",
        request=s.PriorityRequest,
        responses={200: s.ItemResponse, 409: ERROR_RESPONSE},
    )
    def post(self, request: Request, pk: int) -> Response:
        item = services.set_priority(pk, _valid(s.PriorityRequest, request.data)["priority"])
        return Response(selectors.item_data(item))


class HoldView(APIView):
    @extend_schema(
        tags=TAG,
        operation_id="api_queue_item_hold",
        summary="Hold a pending item (it is skipped until resumed)",
        request=None,
        responses={200: s.ItemResponse, 409: ERROR_RESPONSE},
    )
    def post(self, request: Request, pk: int) -> Response:
        return Response(selectors.item_data(services.hold_item(pk)))


class ReleaseView(APIView):
    @extend_schema(
        tags=TAG,
        operation_id="api_queue_item_release",
        summary="Release a held item back to pending",
        request=None,
        responses={200: s.ItemResponse, 409: ERROR_RESPONSE},
    )
    def post(self, request: Request, pk: int) -> Response:
        return Response(selectors.item_data(services.release_item(pk)))


class TryNowView(APIView):
    @extend_schema(
        tags=TAG,
        operation_id="api_queue_site_try_now",
        summary="Check a catalog site now; when it answers, its waiting downloads may start at once",
        description="Sends one request to the site (forgetting its known block). When the site answers without a "
        "block, its block is cleared and every waiting item of that site becomes eligible; when it still blocks us, "
        "the new retry time is remembered and nothing changes.",
        request=None,
        responses={200: s.TryNowResponse, 404: ERROR_RESPONSE},
    )
    def post(self, request: Request, site: str) -> Response:
        try:
            chosen = Site(site)
        except ValueError:
            raise NotFound(f"No catalog site {site!r}; use one of: {', '.join(Site)}.") from None
        state = catalog.check_site(chosen)
        released = services.clear_site_wait(chosen.value) if state.state == catalog.SITE_REACHABLE else []
        return Response({"site": catalog_selectors.site_state_data(state), "released": released})
