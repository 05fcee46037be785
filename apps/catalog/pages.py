"""The search page: it queries /api/search and adds results through /api/search/add."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache


@never_cache
def search_page(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/search.html")


urlpatterns = [
    path("search", search_page, name="search"),
]
