"""The health endpoint (JSON) and the dashboard's overview API; the site's pages are in each app's ``pages.py``."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import SessionBoundJWTAuthentication
from apps.web.health import run_checks
from apps.web.overview import dashboard_overview
from apps.web.serializers import DashboardSerializer


def _is_owner(request: HttpRequest) -> bool:
    """A browser session or a live Bearer token of the owner; a bad token is simply not the owner."""
    if request.user.is_authenticated:
        return True
    try:
        return SessionBoundJWTAuthentication().authenticate(request) is not None
    except AuthenticationFailed:
        return False


@require_GET
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Fast (worker heartbeats): 200/503 with only ``status`` for anyone (Docker, load balancers), the checks
    behind it for the owner; ``?deep=1`` from the owner adds a real Celery ping."""
    owner = _is_owner(request)
    deep = request.GET.get("deep", "").lower() in ("1", "true", "yes") and owner
    report = run_checks(deep=deep)
    status = 200 if report["status"] == "ok" else 503
    if settings.HEALTH_DETAILS == "everyone" or owner:
        return JsonResponse(report, status=status)
    return JsonResponse({"status": report["status"]}, status=status)


class DashboardView(APIView):
    @extend_schema(
        tags=["dashboard"],
        summary="The dashboard's overview: free disk space, library totals, workers by node, catalog sites",
        responses={200: DashboardSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response(dashboard_overview())
