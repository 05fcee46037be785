"""One error shape for the whole API: ``{"error": {"code", "message", "details"}}``.

DRF exceptions go through :func:`api_exception_handler`; Django's own 404/500
(unknown URLs, crashes outside DRF) go through :func:`page_not_found` and
:func:`server_error`, which answer JSON under ``/api/`` and HTML elsewhere.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApiError(exceptions.APIException):
    """An error with an explicit machine-readable code, raised by views and services."""

    def __init__(self, message: str, *, code: str, status_code: int = 400, details: Any = None):
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code
        self.details = details


class Conflict(ApiError):
    def __init__(self, message: str, *, code: str = "conflict", details: Any = None):
        super().__init__(message, code=code, status_code=status.HTTP_409_CONFLICT, details=details)


class ServiceUnavailable(ApiError):
    def __init__(self, message: str, *, code: str = "unavailable", details: Any = None):
        super().__init__(message, code=code, status_code=status.HTTP_503_SERVICE_UNAVAILABLE, details=details)


_CODES_BY_EXCEPTION: list[tuple[type[Exception], str, str]] = [
    (exceptions.ParseError, "malformed_request", "The request body is not valid JSON."),
    (exceptions.UnsupportedMediaType, "unsupported_media_type", "Send the request body as application/json."),
    (exceptions.NotAuthenticated, "not_authenticated", "Log in first: send a Bearer token or a session cookie."),
    (exceptions.AuthenticationFailed, "authentication_failed", "The credentials are not valid."),
    (exceptions.PermissionDenied, "forbidden", "You are not allowed to do this."),
    (exceptions.NotFound, "not_found", "Nothing exists at this address."),
    (exceptions.MethodNotAllowed, "method_not_allowed", "This method is not allowed here."),
    (exceptions.NotAcceptable, "not_acceptable", "The requested response format is not available."),
    (exceptions.Throttled, "throttled", "Too many requests; wait before trying again."),
    (exceptions.ValidationError, "invalid", "The request is not valid."),
]


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.messages)

    from rest_framework.views import exception_handler as drf_default_handler  # DRF imports us while loading

    response = drf_default_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's 500 handler answers with JSON and logs the traceback

    if isinstance(exc, ApiError):
        code, message, details = exc.error_code, str(exc.detail), exc.details
    else:
        code, message, details = "error", str(getattr(exc, "detail", exc)), None
        for exc_type, known_code, known_message in _CODES_BY_EXCEPTION:
            if isinstance(exc, exc_type):
                code, message = known_code, known_message
                break
        if isinstance(exc, exceptions.ValidationError):
            details = exc.detail
            message = _first_validation_message(exc.detail) or message
        elif isinstance(exc, exceptions.MethodNotAllowed):
            message = str(exc.detail)
        elif isinstance(exc, exceptions.Throttled):
            details = {"retry_after_seconds": exc.wait and int(exc.wait + 0.999)}
        elif isinstance(exc, exceptions.AuthenticationFailed):
            message = str(exc.detail)
        elif isinstance(exc, exceptions.ParseError):
            details = str(exc.detail)
    response.data = error_body(code, message, details)
    if isinstance(details, dict) and details.get("retry_after_seconds"):
        response["Retry-After"] = str(details["retry_after_seconds"])
    return response


def _first_validation_message(detail: Any, prefix: str = "") -> str | None:
    if isinstance(detail, dict):
        for field, value in detail.items():
            found = _first_validation_message(value, f"{field}: " if field != "non_field_errors" else "")
            if found:
                return found
    elif isinstance(detail, list):
        for value in detail:
            found = _first_validation_message(value, prefix)
            if found:
                return found
    elif detail:
        return f"{prefix}{detail}"
    return None


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body("bad_request", "The request could not be understood."), status=400)
    return render(request, "web/error.html", {"status": 400, "title": "Bad request"}, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body("forbidden", "You are not allowed to do this."), status=403)
    return render(request, "web/error.html", {"status": 403, "title": "Forbidden"}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            error_body("not_found", f"No API endpoint at {request.path}.", {"path": request.path}), status=404
        )
    return render(request, "web/error.html", {"status": 404, "title": "Page not found"}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            error_body("internal_error", "Something went wrong on the server; the details are in logs/error.log."),
            status=500,
        )
    return render(request, "web/error.html", {"status": 500, "title": "Server error"}, status=500)


class JsonErrorsMixin:
    """For DRF views that render something other than JSON (the OpenAPI schema): errors stay JSON."""

    def finalize_response(self, request, response, *args, **kwargs):
        from rest_framework.renderers import JSONRenderer

        if response.status_code >= 400:
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = "application/json"
            response.renderer_context = self.get_renderer_context()
            return response
        return super().finalize_response(request, response, *args, **kwargs)
