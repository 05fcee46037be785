"""Auth API: thin views over apps.accounts.services."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aniworld_site.errors import ApiError
from aniworld_site.schema import ERROR_RESPONSE
from apps.accounts import services
from apps.accounts.serializers import AuthStatusSerializer, LoginResponseSerializer, PasswordSerializer
from apps.accounts.throttles import AuthRateThrottle


class SetupView(APIView):
    """First run only: set the owner's master password."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthRateThrottle]
    throttle_scope = "auth-setup"

    @extend_schema(request=PasswordSerializer, responses={201: AuthStatusSerializer, 409: ERROR_RESPONSE})
    def post(self, request: Request) -> Response:
        body = PasswordSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.create_owner(body.validated_data["password"])
        return Response(
            {"setup_complete": True, "authenticated": False, "username": services.OWNER_USERNAME, "auth_method": None},
            status=status.HTTP_201_CREATED,
        )


class LoginView(APIView):
    """Exchange the master password for a JWT; also starts a browser session."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthRateThrottle]
    throttle_scope = "auth-login"

    @extend_schema(request=PasswordSerializer, responses={200: LoginResponseSerializer, 401: ERROR_RESPONSE})
    def post(self, request: Request) -> Response:
        body = PasswordSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not body.validated_data["password"]:
            raise ApiError(  # 401 like a wrong one, but no failed attempt is counted
                "Enter your password.", code="password_required", status_code=401, details={"attempts_left": None}
            )
        issued = services.log_in(request._request, body.validated_data["password"])
        response = Response(
            {"access_token": issued.access_token, "token_type": "bearer", "expires_at": issued.expires_at}
        )
        response.set_cookie(  # lets this browser log in even while its address is locked out
            services.DEVICE_COOKIE,
            issued.device_token,
            max_age=services.DEVICE_COOKIE_MAX_AGE,
            path=request.path,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Strict",
        )
        return response


class LogoutView(APIView):
    """Revoke the token and the browser session, in every process, at once."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        token = request.auth if request.auth is not None and hasattr(request.auth, "get") else None
        services.log_out(request._request, token.get(services.SESSION_CLAIM) if token else None)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StatusView(APIView):
    """Whether setup is done and who is calling."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: AuthStatusSerializer})
    def get(self, request: Request) -> Response:
        user = request.user if request.user and request.user.is_authenticated else None
        method = None
        if user is not None:
            method = "token" if request.auth is not None else "session"
        return Response(
            {
                "setup_complete": services.is_setup_complete(),
                "authenticated": user is not None,
                "username": user.get_username() if user else None,
                "auth_method": method,
            }
        )
