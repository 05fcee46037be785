"""Until setup is done every page leads to /setup; after it, pages need a login.

API endpoints answer with JSON instead of redirects: 503 ``setup_required``
before setup, and DRF's own 401 for a missing login after it.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse

from aniworld_site.errors import error_body
from apps.accounts.services import is_setup_complete, is_trusted_proxy
from apps.configuration.selectors import setup_completed

ALWAYS_OPEN = ("/health", "/static/", "/favicon.ico", "/login", "/setup", "/api/auth/", "/api/setup")
NEEDS_NO_PAGE_LOGIN = ("/api/", "/admin/", "/ws/")


class SetupAndLoginRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        open_path = path.startswith(ALWAYS_OPEN)
        if not is_setup_complete():
            if open_path:
                return self.get_response(request)
            if path.startswith("/api/"):
                return JsonResponse(
                    error_body("setup_required", "Aniworld is not set up yet; open /setup to create the owner."),
                    status=503,
                )
            return HttpResponseRedirect("/setup")
        if path.rstrip("/") == "/setup":
            if request.user.is_authenticated and not setup_completed():
                return self.get_response(request)  # step 2 of the wizard: library path and languages
            return HttpResponseRedirect("/" if request.user.is_authenticated else "/login")
        if open_path or path.startswith(NEEDS_NO_PAGE_LOGIN) or request.user.is_authenticated:
            return self.get_response(request)
        return HttpResponseRedirect("/login?" + urlencode({"next": request.get_full_path()}))


class ForwardedSchemeMiddleware:
    """X-Forwarded-Proto counts only from a trusted proxy; from anyone else it is dropped.

    Django's SECURE_PROXY_SSL_HEADER believes the header from every client, which would let a client
    talking plain HTTP pass for HTTPS.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "HTTP_X_FORWARDED_PROTO" in request.META and not is_trusted_proxy(request.META.get("REMOTE_ADDR", "")):
            del request.META["HTTP_X_FORWARDED_PROTO"]
        return self.get_response(request)
