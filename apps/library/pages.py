"""The library list and a series' page; both render client-side from /api/anime."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache


@never_cache
def library_page(request: HttpRequest) -> HttpResponse:
    return render(request, "library/library.html")


@never_cache
def series_page(request: HttpRequest, series_id: int) -> HttpResponse:
    return render(request, "library/series.html", {"series_id": series_id})


urlpatterns = [
    path("library", library_page, name="library"),
    path("library/<int:series_id>", series_page, name="series"),
]
