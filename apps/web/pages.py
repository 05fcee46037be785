"""The dashboard (system health and the download queue) and the site-wide favicon route.

Page convention: every app serves its pages from its own ``pages.py`` (views plus ``urlpatterns``),
with templates in ``apps/<app>/templates/<app>/`` and scripts in ``apps/<app>/static/<app>/``.
The shared shell (``web/base.html``, ``web/api.js``, ``web/realtime.js``, theme, styles) lives here.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import path
from django.views.decorators.cache import never_cache

from apps.library.selectors import library_is_empty


@never_cache
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "web/dashboard.html", {"library_empty": library_is_empty()})


def favicon(request: HttpRequest) -> HttpResponse:
    """For browsers and pages (the API docs) that ask for /favicon.ico instead of the linked icon."""
    return redirect(static("web/favicon.svg"), permanent=True)


urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("favicon.ico", favicon, name="favicon"),
]
