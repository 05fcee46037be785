"""Tell drf-spectacular how our Bearer authentication appears in the OpenAPI schema."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class SessionBoundJWTScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.SessionBoundJWTAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
