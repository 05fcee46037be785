"""The OpenAPI schema documents the errors every operation can answer with, in the one error shape.

Views document their own success responses and the errors particular to them
(``@extend_schema(responses=…)``); :class:`ApiAutoSchema` adds the errors that come
from the machinery around every view — a malformed or invalid request, a missing
or bad token, CSRF, an unknown id, an oversized or non-JSON body, throttling and
"not set up yet" — so that schema and behaviour agree (checked by schemathesis in
``tests/contract``).
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable, e.g. `invalid`, `not_found`, `throttled`.")
    message = serializers.CharField(help_text="One sentence for a person.")
    details = serializers.JSONField(allow_null=True, help_text="For `invalid`: {field: [messages]}.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


ERROR_RESPONSE = error_response('{"error": {"code", "message", "details"}}')


class ApiAutoSchema(AutoSchema):
    def _get_request_body(self, direction="request"):
        """drf-spectacular documents bodies of POST/PUT/PATCH only; a DELETE given one (batch remove) shows it too."""
        if self.method != "DELETE" or type(self).get_request_serializer is AutoSchema.get_request_serializer:
            return super()._get_request_body(direction)
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        for code, description in self.common_errors(operation).items():
            if code not in operation["responses"]:
                operation["responses"][code] = self._get_response_for_code(error_response(description), code)
        return operation

    def common_errors(self, operation: dict) -> dict[str, str]:
        """Status → description of the errors this operation can get from outside its own code."""
        parameters = operation.get("parameters", [])
        has_body = "requestBody" in operation
        authenticates = bool(self.view.get_authenticators())
        errors: dict[str, str] = {}
        if has_body or any(p["in"] in ("query", "path") for p in parameters):
            errors["400"] = "Malformed or invalid request: every invalid field in `error.details`."
        if authenticates:
            errors["401"] = "Not logged in, or the token is invalid, expired or revoked."
        if authenticates and (has_body or not all(isinstance(p, AllowAny) for p in self.view.get_permissions())):
            errors["403"] = "Not allowed (for a browser session: the CSRF token is missing)."
        if any(p["in"] == "path" for p in parameters):
            errors["404"] = "Nothing with this id."
        elif any(p["in"] == "query" and p["name"] == "page" for p in parameters):
            errors["404"] = "No such page."
        if has_body:
            errors["413"] = "The request body is larger than the server accepts."
            errors["415"] = "The body is not `application/json`."
        if self.view.get_throttles():
            errors["429"] = "Too many requests; `Retry-After` says when to try again."
        errors["503"] = "Aniworld is not set up yet, or a service it needs is unavailable."
        return errors
