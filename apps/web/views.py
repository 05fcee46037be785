"""Server-rendered pages. They call services; no business logic lives here."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.accounts.services import is_setup_complete
from apps.configuration.selectors import language_options, setup_completed
from apps.web.health import run_checks


@require_GET
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Fast by default (worker heartbeats); ``?deep=1`` from the logged-in owner adds a real Celery ping."""
    deep = request.GET.get("deep", "").lower() in ("1", "true", "yes") and request.user.is_authenticated
    report = run_checks(deep=deep)
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


@never_cache
def setup_page(request: HttpRequest) -> HttpResponse:
    if is_setup_complete():
        if request.user.is_authenticated and not setup_completed():
            return render(request, "web/setup.html", {"library_step": True, "languages": language_options()})
        return redirect("/login")
    return render(request, "web/setup.html", {"languages": language_options()})


@never_cache
def login_page(request: HttpRequest) -> HttpResponse:
    next_url = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    if request.user.is_authenticated:
        return redirect(next_url)
    return render(request, "web/login.html", {"next_url": next_url})


@never_cache
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "web/dashboard.html")


@never_cache
def library_page(request: HttpRequest) -> HttpResponse:
    return render(request, "web/library.html")


@never_cache
def series_page(request: HttpRequest, series_id: int) -> HttpResponse:
    return render(request, "web/series.html", {"series_id": series_id})


@never_cache
def search_page(request: HttpRequest) -> HttpResponse:
    return render(request, "web/search.html")
