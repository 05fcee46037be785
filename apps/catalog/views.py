"""Search API: ``GET /api/search?q=…&site=`` (thin over apps.catalog.selectors)."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aniworld_site.errors import ApiError, ServiceUnavailable
from aniworld_site.schema import ERROR_RESPONSE
from apps.catalog import selectors
from apps.catalog.serializers import (
    MAX_QUERY_LENGTH,
    SearchQuerySerializer,
    SearchResponseSerializer,
    SitesResponseSerializer,
)
from apps.catalog.throttles import CatalogRateThrottle
from apps.catalog.types import CatalogError, Site


class SearchView(APIView):
    """Search aniworld.to and s.to (or one of them) for series."""

    throttle_classes = [CatalogRateThrottle]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q",
                {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_LENGTH, "pattern": r"\S"},
                required=True,
                description="Search text, 1-100 characters (not only spaces).",
            ),
            OpenApiParameter("site", str, required=False, enum=[s.value for s in Site], description="One site only."),
            OpenApiParameter(
                "check_now",
                bool,
                required=False,
                description="Ask a site even though it is known to block us (otherwise it is left alone until its "
                "retry time and the answer comes from the known block).",
            ),
        ],
        responses={200: SearchResponseSerializer},
        description=(
            "Results of both sites merged, each naming its site. When one site fails the other's results come "
            "with a `warnings` entry; when every site fails the answer is 503 (with `Retry-After` when the sites "
            "are blocking us). A site known to block us is not asked before its retry time unless `check_now` is "
            "set. Results are cached for a few minutes."
        ),
    )
    def get(self, request: Request) -> Response:
        params = SearchQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        site = params.validated_data.get("site")
        try:
            data = selectors.search_catalog(
                params.validated_data["q"], Site(site) if site else None, check_now=params.validated_data["check_now"]
            )
        except selectors.AllSitesFailed as failed:
            details = {
                "warnings": [selectors.warning_data(s, e) for s, e in failed.failures.items()],
                "retry_after_seconds": failed.retry_after_seconds(),
            }
            block = failed.blocking
            if block is not None:
                raise ServiceUnavailable(
                    f"The catalog is blocking us; try again after {block.retry_at:%H:%M} UTC. ({block})",
                    code="site_blocking",
                    details={**details, "retry_at": block.retry_at.isoformat()},
                ) from failed
            first = next(iter(failed.failures.values()))
            raise ServiceUnavailable(
                f"The catalog could not be searched: {first}", code="catalog_unavailable", details=details
            ) from failed
        return Response(data)


class SitesView(APIView):
    """The catalog sites' states, from the known blocks and the configuration (sends no request)."""

    @extend_schema(
        tags=["catalog"],
        summary="Each catalog site's state: reachable, blocked until a time, or not configured",
        responses={200: SitesResponseSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response({"sites": selectors.site_states()})


# Shown when the site has no cover to give (a missing image would be a broken icon and a console error).
COVER_PLACEHOLDER = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 45 64"><rect width="45" height="64" fill="#8884"/></svg>'
)


class SearchCoverView(APIView):
    """A search result's cover, fetched from its catalog site by the server (pages load images only from here)."""

    throttle_classes = [CatalogRateThrottle]

    @extend_schema(
        tags=["catalog"],
        summary="The cover image of a search result (its cover_url), through the server",
        parameters=[
            OpenApiParameter(
                "url", {"type": "string", "minLength": 1}, required=True, description="A result's cover_url."
            )
        ],
        description="The cover from the catalog site (cached for a day); a neutral placeholder image when the site "
        "has none, blocks us or the address is not a catalog cover.",
        responses={(200, "image/*"): OpenApiTypes.BINARY, 400: ERROR_RESPONSE},
    )
    def get(self, request: Request) -> HttpResponse:
        url = request.query_params.get("url", "")
        if not url:
            raise ApiError("Give the cover's address as ?url=… (a search result's cover_url).", code="invalid")
        try:
            body, content_type = selectors.search_cover(url)
        except CatalogError:
            response = HttpResponse(COVER_PLACEHOLDER, content_type="image/svg+xml")
            response["Cache-Control"] = "private, max-age=600"
            return response
        response = HttpResponse(body, content_type=content_type)
        response["Cache-Control"] = "private, max-age=86400"
        return response
