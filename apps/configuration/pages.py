"""The settings page; it loads and saves through /api/config (``configuration/settings.js``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache

from apps.configuration import defaults, selectors
from apps.library import naming


@never_cache
def settings_page(request: HttpRequest) -> HttpResponse:
    context = {
        "languages": selectors.language_options(),
        "hosters": [{"value": hoster, "label": hoster} for hoster in defaults.known_hosters()],
        "events": [
            {"value": event, "label": event.replace("_", " ").capitalize()} for event in defaults.NOTIFICATION_EVENTS
        ],
        "placeholders": naming.PLACEHOLDERS,
        "secret_mask": defaults.SECRET_MASK,
    }
    return render(request, "configuration/settings.html", context)


urlpatterns = [
    path("settings", settings_page, name="settings"),
]
