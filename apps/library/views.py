"""Anime API (``/api/anime…``) and the add-to-library endpoint (``POST /api/search/add``): thin views."""

from __future__ import annotations

import re

from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aniworld_site.errors import ApiError, Conflict, ServiceUnavailable
from aniworld_site.schema import ERROR_RESPONSE
from apps.catalog import services as catalog
from apps.catalog.providers.base import SLUG
from apps.catalog.throttles import CatalogRateThrottle
from apps.catalog.types import CatalogError, LayoutChanged, NotFoundOnSite, SiteBlocking
from apps.library import naming, selectors, services
from apps.library.models import ScanRun, Series, UnmatchedFile
from apps.library.serializers import (
    AddSeriesRequestSerializer,
    DeletedFileSerializer,
    DownloadRequestSerializer,
    DownloadResultSerializer,
    EpisodeSourcesSerializer,
    IgnoreRequestSerializer,
    IgnoreResponseSerializer,
    RefreshResultSerializer,
    ScanStatusSerializer,
    SeriesDetailSerializer,
    SeriesListSerializer,
    SeriesUpdateSerializer,
    TaskStartedSerializer,
    UnmatchedFileSerializer,
)
from apps.queue import services as queue


class LibraryPagination(PageNumberPagination):
    """Page numbers from 1; a ``page_size`` that is not 1-500 is a 400, not silently the default."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            message = f"page_size must be a number from 1 to {self.max_page_size}."
            raise ValidationError({self.page_size_query_param: [message]})
        return size

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {"page": {"minimum": 1}, "page_size": {"minimum": 1, "maximum": self.max_page_size}}
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters


def catalog_api_error(exc: Exception, *, not_found_status: int = status.HTTP_502_BAD_GATEWAY) -> ApiError:
    """A catalog failure as a readable API error (the catalog's message names site, step and remedy)."""
    if isinstance(exc, SiteBlocking):
        return ServiceUnavailable(
            str(exc),
            code="site_blocking",
            details={"retry_at": exc.retry_at.isoformat(), "retry_after_seconds": exc.retry_after_seconds()},
        )
    if isinstance(exc, NotFoundOnSite):
        return ApiError(str(exc), code="not_found_on_site", status_code=not_found_status)
    if isinstance(exc, LayoutChanged):
        return ApiError(str(exc), code="catalog_layout_changed", status_code=status.HTTP_502_BAD_GATEWAY)
    return ApiError(
        str(exc) or "The catalog site failed.", code="catalog_error", status_code=status.HTTP_502_BAD_GATEWAY
    )


def get_series(pk: int) -> Series:
    series = selectors.series_with_counts().filter(pk=pk).first()
    if series is None:
        raise ApiError(f"No series with id {pk} in the library.", code="not_found", status_code=404)
    return series


def _optional_bool(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    lowered = raw.strip().lower()
    if lowered in {"true", "1", "yes"}:
        return True
    if lowered in {"false", "0", "no"}:
        return False
    raise ApiError(f"'{name}' must be true or false.", code="invalid", details={name: raw})


MAX_REFERENCES = 100
_REFERENCE = rf"(?:aniworld|sto):{SLUG}"
REFERENCES_PATTERN = rf"^(?:{_REFERENCE}(?:,{_REFERENCE}){{0,{MAX_REFERENCES - 1}}})?$"


def _references(request: Request) -> list[tuple[str, str]] | None:
    """``?references=aniworld:slug,sto:slug`` as (site, slug) pairs; None when not given."""
    raw = request.query_params.get("references")
    if raw is None:
        return None
    if not re.fullmatch(REFERENCES_PATTERN, raw):
        raise ApiError(
            f"references must be up to {MAX_REFERENCES} comma-separated site:slug values (e.g. aniworld:frieren).",
            code="invalid",
            details={"references": raw},
        )
    return [tuple(entry.split(":", 1)) for entry in raw.split(",") if entry]


class SeriesListView(generics.ListAPIView):
    """Series in the library with episode and missing counts."""

    serializer_class = SeriesListSerializer
    pagination_class = LibraryPagination

    def get_queryset(self) -> QuerySet[Series]:
        site = self.request.query_params.get("site") or None
        if site is not None and site not in {choice for choice, _label in Series._meta.get_field("site").choices}:
            raise ApiError(f"Unknown site '{site}'.", code="invalid", details={"site": site})
        search = (self.request.query_params.get("search") or "").strip()
        if len(search) > 200:
            raise ApiError("The search text is too long (at most 200 characters).", code="invalid")
        return selectors.filter_series(
            selectors.series_with_counts(),
            search=search or None,
            missing=_optional_bool(self.request, "missing"),
            site=site,
            monitored=_optional_bool(self.request, "monitored"),
            references=_references(self.request),
        ).order_by("title", "id")

    @extend_schema(
        parameters=[
            OpenApiParameter("search", str, description="Part of the title, slug or an alternative title."),
            OpenApiParameter("missing", bool, description="true: only series with missing episodes."),
            OpenApiParameter("site", str, enum=["aniworld", "sto"]),
            OpenApiParameter("monitored", bool),
            OpenApiParameter(
                "references",
                {"type": "string", "pattern": REFERENCES_PATTERN},
                description="Only these series, as comma-separated site:slug (at most 100), e.g. to tell which "
                "search results are already in the library.",
            ),
        ],
        responses={200: SeriesListSerializer(many=True), 400: ERROR_RESPONSE},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class SeriesDetailView(APIView):
    """One series with its seasons, episodes and their states."""

    @extend_schema(responses={200: SeriesDetailSerializer, 404: ERROR_RESPONSE})
    def get(self, request: Request, pk: int) -> Response:
        return Response(SeriesDetailSerializer(get_series(pk)).data)

    @extend_schema(
        request=SeriesUpdateSerializer,
        responses={200: SeriesDetailSerializer, 400: ERROR_RESPONSE, 404: ERROR_RESPONSE},
    )
    def patch(self, request: Request, pk: int) -> Response:
        series = get_series(pk)
        body = SeriesUpdateSerializer(series, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        body.save()
        return Response(SeriesDetailSerializer(get_series(pk)).data)


CHECK_NOW = OpenApiParameter(
    "check_now",
    bool,
    description="Send the request even though the site is known to block us; otherwise the answer is 503 with "
    "Retry-After until the site's retry time, and nothing is sent.",
)


class SeriesRefreshView(APIView):
    """Refresh metadata and episode lists from the catalog site now."""

    throttle_classes = [CatalogRateThrottle]

    @extend_schema(
        request=None,
        parameters=[CHECK_NOW],
        responses={200: RefreshResultSerializer, 404: ERROR_RESPONSE, 502: ERROR_RESPONSE, 503: ERROR_RESPONSE},
    )
    def post(self, request: Request, pk: int) -> Response:
        series = get_series(pk)
        if _optional_bool(request, "check_now"):
            catalog.check_now(series.site)
        try:
            result = services.refresh_series(series)
        except CatalogError as exc:
            raise catalog_api_error(exc) from exc
        return Response({**result, "series": SeriesDetailSerializer(get_series(pk)).data})


class EpisodeSourcesView(APIView):
    """What the site offers for one episode and how the queue's attempts with each source went."""

    throttle_classes = [CatalogRateThrottle]

    @extend_schema(
        parameters=[CHECK_NOW],
        responses={200: EpisodeSourcesSerializer, 404: ERROR_RESPONSE, 502: ERROR_RESPONSE, 503: ERROR_RESPONSE},
        description=(
            "The languages the episode page offers and, per language, its hosters: whether Aniworld has a "
            "resolver for each and what the latest queue attempts with that hoster and language gave "
            "(newest first). The site's part is cached for five minutes (`cached`); while the site is known to "
            "block us the answer is 503 with `Retry-After` and nothing is sent (unless `check_now`, which also "
            "skips the cache). 404 for an unknown series or an episode not in it."
        ),
    )
    def get(self, request: Request, pk: int, episode_pk: int) -> Response:
        series = get_series(pk)
        episode = selectors.series_episode(series, episode_pk)
        if episode is None:
            raise ApiError(f"Series {pk} has no episode with id {episode_pk}.", code="not_found", status_code=404)
        try:
            data = selectors.episode_sources(series, episode, check_now=bool(_optional_bool(request, "check_now")))
        except CatalogError as exc:
            raise catalog_api_error(exc, not_found_status=status.HTTP_404_NOT_FOUND) from exc
        return Response(data)


class EpisodesIgnoreView(APIView):
    """Ignore episodes of this series (never counted missing, never queued by "all missing"), or undo it."""

    @extend_schema(
        request=IgnoreRequestSerializer,
        responses={200: IgnoreResponseSerializer, 400: ERROR_RESPONSE, 404: ERROR_RESPONSE},
    )
    def post(self, request: Request, pk: int) -> Response:
        series = get_series(pk)
        body = IgnoreRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ids = body.validated_data["episode_ids"]
        found = set(selectors.series_episodes(series).filter(pk__in=ids).values_list("pk", flat=True))
        if unknown := sorted(set(ids) - found):
            raise ApiError(f"Series {pk} has no episode {unknown}.", code="not_found", status_code=404)
        changed = services.set_episodes_ignored(list(dict.fromkeys(ids)), body.validated_data["ignored"])
        return Response({"changed": changed})


class EpisodeFileView(APIView):
    """The episode's file in the library."""

    @extend_schema(
        request=None,
        responses={200: DeletedFileSerializer, 404: ERROR_RESPONSE, 409: ERROR_RESPONSE, 503: ERROR_RESPONSE},
        description="Deletes the file from disk; a present episode becomes missing (download it again to get "
        "it back). 409 when the episode has no file.",
    )
    def delete(self, request: Request, pk: int, episode_pk: int) -> Response:
        series = get_series(pk)
        episode = selectors.series_episode(series, episode_pk)
        if episode is None:
            raise ApiError(f"Series {pk} has no episode with id {episode_pk}.", code="not_found", status_code=404)
        deleted = episode.file_path
        try:
            episode = services.delete_episode_file(episode.pk)
        except services.EpisodeHasNoFile as exc:
            raise Conflict(str(exc), code="no_file") from exc
        except naming.UnsafePathError as exc:
            raise ApiError(str(exc), code="unsafe_path", status_code=400) from exc
        except OSError as exc:
            raise ServiceUnavailable(f"Could not delete the file: {exc.strerror or exc}.", code="not_deleted") from exc
        return Response({"episode_id": episode.pk, "state": episode.state, "deleted": deleted})


class SeriesDownloadView(APIView):
    """Queue chosen episodes (or all missing ones) of this series, with a priority."""

    @extend_schema(
        request=DownloadRequestSerializer,
        responses={200: DownloadResultSerializer, 400: ERROR_RESPONSE, 404: ERROR_RESPONSE, 503: ERROR_RESPONSE},
    )
    def post(self, request: Request, pk: int) -> Response:
        series = get_series(pk)
        body = DownloadRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            episode_ids = services.episodes_to_download(
                series, body.validated_data.get("episode_ids"), all_missing=body.validated_data["all_missing"]
            )
            result = queue.enqueue_episodes(episode_ids, body.validated_data["priority"])
        except services.UnknownEpisodes as exc:
            raise ApiError(
                "Some episodes do not exist in this series.",
                code="not_found",
                status_code=404,
                details={"unknown_episode_ids": exc.episode_ids},
            ) from exc
        return Response(result)


class SeriesCoverView(APIView):
    """The series' locally stored cover image."""

    @extend_schema(responses={(200, "image/*"): OpenApiTypes.BINARY, 404: ERROR_RESPONSE})
    def get(self, request: Request, pk: int) -> FileResponse:
        path = services.cover_file(get_series(pk))
        if path is None:
            raise ApiError("This series has no stored cover.", code="not_found", status_code=404)
        return FileResponse(path.open("rb"))


class RescanView(APIView):
    """Start a library scan (POST) or see whether one runs and what the last one found (GET)."""

    @extend_schema(responses={200: ScanStatusSerializer})
    def get(self, request: Request) -> Response:
        return Response(
            ScanStatusSerializer({"running": services.is_scan_running(), "last_scan": ScanRun.objects.first()}).data
        )

    @extend_schema(request=None, responses={202: TaskStartedSerializer, 409: ERROR_RESPONSE})
    def post(self, request: Request) -> Response:
        full = _optional_bool(request, "full") or False
        try:
            task_id = services.start_scan(full=full)
        except services.ScanAlreadyRunning as exc:
            raise Conflict("A library scan is already running.", code="scan_running") from exc
        return Response({"task_id": task_id}, status=status.HTTP_202_ACCEPTED)


class UnmatchedFilesView(generics.ListAPIView):
    """Video files the scanner found but could not place in a series/episode."""

    serializer_class = UnmatchedFileSerializer
    pagination_class = LibraryPagination
    queryset = UnmatchedFile.objects.order_by("path")


class AddSeriesView(APIView):
    """Add a series from a catalog site to the library (wired at ``POST /api/search/add``)."""

    throttle_classes = [CatalogRateThrottle]

    @extend_schema(
        request=AddSeriesRequestSerializer,
        parameters=[CHECK_NOW],
        responses={
            201: SeriesDetailSerializer,
            400: ERROR_RESPONSE,
            404: ERROR_RESPONSE,
            409: ERROR_RESPONSE,
            502: ERROR_RESPONSE,
            503: ERROR_RESPONSE,
        },
    )
    def post(self, request: Request) -> Response:
        body = AddSeriesRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            if "url" in body.validated_data:
                try:
                    site, slug = catalog.parse_series_reference(body.validated_data["url"])
                except ValueError as exc:
                    raise ApiError(str(exc), code="invalid", details={"url": body.validated_data["url"]}) from exc
            else:
                site, slug = body.validated_data["site"], body.validated_data["slug"]
            if _optional_bool(request, "check_now"):
                catalog.check_now(site)
            series = services.add_series(site, slug)
        except services.SeriesAlreadyExists as exc:
            raise Conflict(str(exc), code="already_in_library", details={"series_id": exc.series.pk}) from exc
        except CatalogError as exc:
            raise catalog_api_error(exc, not_found_status=status.HTTP_404_NOT_FOUND) from exc
        except naming.UnsafePathError as exc:
            raise ApiError(str(exc), code="unsafe_path", status_code=400) from exc
        except OSError as exc:
            raise ServiceUnavailable(
                f"Could not create the series folder: {exc.strerror or exc}.", code="library_not_writable"
            ) from exc
        return Response(SeriesDetailSerializer(get_series(series.pk)).data, status=status.HTTP_201_CREATED)
