"""Configuration API: thin views over services and selectors (the settings page is in pages.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings as django_settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aniworld_site.errors import ApiError
from apps.configuration import services
from apps.configuration.checks import run_live_checks
from apps.configuration.models import SettingsChange
from apps.configuration.serializers import (
    ConfigSerializer,
    ConfigUpdateSerializer,
    HistoryQuerySerializer,
    NamingPreviewRequestSerializer,
    NamingPreviewSerializer,
    SettingsChangeSerializer,
    SetupSerializer,
    ValidationReportSerializer,
)
from apps.library import services as library

INVALID = OpenApiResponse(description="Every invalid field in `error.details` as {field: [messages]}; nothing saved.")


def _body(request: Request) -> Any:
    data = request.data
    return dict(data) if isinstance(data, Mapping) else data


class ConfigView(APIView):
    """The owner's settings. PUT (or PATCH) takes any subset of fields; all valid or nothing saved."""

    @extend_schema(responses={200: ConfigSerializer})
    def get(self, request: Request) -> Response:
        return Response(services.public_settings())

    @extend_schema(request=ConfigUpdateSerializer, responses={200: ConfigSerializer, 400: INVALID})
    def put(self, request: Request) -> Response:
        row = services.update_settings(_body(request), actor=request.user)
        return Response(services.public_settings(row))

    @extend_schema(request=ConfigUpdateSerializer, responses={200: ConfigSerializer, 400: INVALID})
    def patch(self, request: Request) -> Response:
        return self.put(request)


class ConfigValidateView(APIView):
    """Check settings without saving: field validation plus live checks on this machine.

    Live checks: the library folder exists and is writable, ffmpeg is found, the
    naming template renders (with a sample path), the site URLs are well formed.
    """

    @extend_schema(request=ConfigUpdateSerializer, responses={200: ValidationReportSerializer})
    def post(self, request: Request) -> Response:
        candidate, errors = services.check_settings(_body(request))
        library_path = candidate.library_path or str(django_settings.DEFAULT_LIBRARY_DIR)
        checks = run_live_checks(candidate, library_path, errors)
        valid = not errors and all(check["ok"] for check in checks.values())
        return Response({"valid": valid, "errors": errors, "checks": checks})


class ConfigHistoryView(APIView):
    """The latest changes to the settings, newest first (secrets masked)."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": 500},
                description="How many changes (default 100).",
            )
        ],
        responses={200: SettingsChangeSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit = query.validated_data["limit"]
        changes = SettingsChange.objects.all()[:limit]
        return Response(SettingsChangeSerializer(changes, many=True).data)


class SetupView(APIView):
    """First-run step 2 (after the password, logged in): library path and language order. 409 once done."""

    @extend_schema(request=SetupSerializer, responses={201: ConfigSerializer, 400: INVALID, 409: None})
    def post(self, request: Request) -> Response:
        body = _body(request)
        if not isinstance(body, dict):
            body = {}
        row = services.complete_setup(body.get("library_path"), body.get("language_preference"), actor=request.user)
        return Response(services.public_settings(row), status=status.HTTP_201_CREATED)


class NamingPreviewView(APIView):
    """The naming template rendered as the owner types it, for one of the owner's own series."""

    @extend_schema(request=NamingPreviewRequestSerializer, responses={200: NamingPreviewSerializer, 400: INVALID})
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict) or not isinstance(request.data.get("naming_template"), str):
            raise ApiError('Send the template as text: {"naming_template": "…"}.', code="invalid")
        body = NamingPreviewRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(library.naming_preview(body.validated_data["naming_template"]))
