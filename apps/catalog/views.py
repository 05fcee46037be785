"""Search API: ``GET /api/search?q=…&site=`` (thin over apps.catalog.selectors)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aniworld_site.errors import ServiceUnavailable
from apps.catalog import selectors
from apps.catalog.serializers import (
    MAX_QUERY_LENGTH,
    SearchQuerySerializer,
    SearchResponseSerializer,
    SitesResponseSerializer,
)
from apps.catalog.throttles import CatalogRateThrottle
from apps.catalog.types import Site


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
