"""Bearer-token authentication whose tokens die with the session they were issued with."""

from __future__ import annotations

from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import exceptions as jwt_exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication

from apps.accounts.services import SESSION_CLAIM, session_is_live


class SessionBoundJWTAuthentication(JWTAuthentication):
    """Accepts `Authorization: Bearer <JWT>` only while the token's login session is live.

    simplejwt's own failures carry a dict as their detail; they are replaced by DRF's
    plain ``AuthenticationFailed`` so the client reads a sentence, not a Python repr.
    """

    def authenticate(self, request):
        try:
            result = super().authenticate(request)
        except jwt_exceptions.InvalidToken:
            raise AuthenticationFailed("The token is invalid or has expired; log in again.") from None
        except jwt_exceptions.AuthenticationFailed as failure:
            if isinstance(failure.detail, dict) and failure.detail.get("code") == "bad_authorization_header":
                raise AuthenticationFailed(
                    "The Authorization header must be 'Bearer <token>' with a token from /api/auth/login."
                ) from None
            raise AuthenticationFailed("The token's user does not exist or is inactive; log in again.") from None
        if result is None:
            return None
        user, token = result
        session_key = token.get(SESSION_CLAIM)
        if not session_key or not session_is_live(session_key, user.pk):
            raise AuthenticationFailed("This token was revoked by a logout; log in again.")
        return user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
