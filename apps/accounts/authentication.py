"""Bearer-token authentication whose tokens die with the session they were issued with."""

from __future__ import annotations

from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken

from apps.accounts.services import SESSION_CLAIM, session_is_live


class SessionBoundJWTAuthentication(JWTAuthentication):
    """Accepts `Authorization: Bearer <JWT>` only while the token's login session is live."""

    def authenticate(self, request):
        try:
            result = super().authenticate(request)
        except InvalidToken:
            raise AuthenticationFailed("The token is invalid or has expired; log in again.") from None
        if result is None:
            return None
        user, token = result
        session_key = token.get(SESSION_CLAIM)
        if not session_key or not session_is_live(session_key, user.pk):
            raise AuthenticationFailed("This token was revoked by a logout; log in again.")
        return user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
