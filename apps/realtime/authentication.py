"""Who may hold a realtime socket: a live browser session, or a live session-bound JWT."""

from __future__ import annotations

from dataclasses import dataclass

from channels.db import database_sync_to_async
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from apps.accounts.services import SESSION_CLAIM, session_is_live

MAX_TOKEN_LENGTH = 4096


@dataclass(frozen=True)
class SocketIdentity:
    user_id: str
    session_key: str
    kind: str  # "session" (browser cookie) or "token" (first-frame JWT)


@database_sync_to_async
def session_still_live(session_key: str, user_id: str) -> bool:
    return session_is_live(session_key, user_id)


@database_sync_to_async
def identity_from_token(raw_token: str) -> SocketIdentity | None:
    """The identity behind a JWT, or None if it is malformed, expired or revoked by a logout."""
    if not raw_token or len(raw_token) > MAX_TOKEN_LENGTH:
        return None
    jwt = JWTAuthentication()
    try:
        token = jwt.get_validated_token(raw_token.encode())
        user = jwt.get_user(token)
    except (InvalidToken, TokenError, AuthenticationFailed):
        return None
    session_key = token.get(SESSION_CLAIM)
    if not user.is_active or not session_key or not session_is_live(session_key, user.pk):
        return None
    return SocketIdentity(user_id=str(user.pk), session_key=session_key, kind="token")
