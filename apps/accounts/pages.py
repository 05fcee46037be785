"""First-run setup and login pages; both talk to the JSON auth API from ``accounts/auth.js``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

from apps.accounts.services import is_setup_complete
from apps.configuration.selectors import language_options, setup_completed


@never_cache
def setup_page(request: HttpRequest) -> HttpResponse:
    if is_setup_complete():
        if request.user.is_authenticated and not setup_completed():
            return render(request, "accounts/setup.html", {"library_step": True, "languages": language_options()})
        return redirect("login")
    return render(request, "accounts/setup.html", {"languages": language_options()})


@never_cache
def login_page(request: HttpRequest) -> HttpResponse:
    next_url = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    if request.user.is_authenticated:
        return redirect(next_url)
    return render(request, "accounts/login.html", {"next_url": next_url})


urlpatterns = [
    path("setup", setup_page, name="setup"),
    path("login", login_page, name="login"),
]
