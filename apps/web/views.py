"""The health endpoint (JSON); the site's pages are in each app's ``pages.py``."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.web.health import run_checks


@require_GET
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Fast by default (worker heartbeats); ``?deep=1`` from the logged-in owner adds a real Celery ping."""
    deep = request.GET.get("deep", "").lower() in ("1", "true", "yes") and request.user.is_authenticated
    report = run_checks(deep=deep)
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
