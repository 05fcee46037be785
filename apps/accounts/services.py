"""Owner account: first-run setup, login with lockout, logout that revokes everywhere.

There is exactly one account, the owner (a Django superuser named ``owner``), so
the same password opens the dashboard, the API and the Django admin. A JWT
carries the key of the Django session created at login (claim ``sid``); the
token is valid only while that session exists in the database, so logging out
anywhere revokes the token and the browser session in every process at once.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from rest_framework_simplejwt.tokens import AccessToken

from aniworld_site.errors import ApiError, Conflict
from apps.accounts.passwords import password_problems

OWNER_USERNAME = "owner"
SESSION_CLAIM = "sid"

_setup_complete_cache = False


class WeakPassword(ApiError):
    def __init__(self, problems: list[str]):
        super().__init__(
            "The password is too weak: " + " ".join(problems),
            code="weak_password",
            status_code=400,
            details={"problems": problems},
        )


class InvalidCredentials(ApiError):
    def __init__(self, attempts_left: int):
        super().__init__(
            "Wrong password.",
            code="invalid_credentials",
            status_code=401,
            details={"attempts_left_before_lockout": attempts_left},
        )


class LockedOut(ApiError):
    def __init__(self, retry_after: int):
        super().__init__(
            f"Too many failed logins from your address; try again in {max(1, retry_after // 60)} minute(s).",
            code="locked_out",
            status_code=429,
            details={"retry_after_seconds": retry_after},
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class IssuedLogin:
    access_token: str
    expires_at: datetime


# --- client address -------------------------------------------------------------


def client_ip(request: HttpRequest) -> str:
    """The caller's address; X-Forwarded-For is believed only when it comes from a trusted proxy."""
    return client_address(request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR", ""))


def client_address(remote: str, forwarded_for: str) -> str:
    """The client behind a connection from ``remote`` that sent ``X-Forwarded-For: forwarded_for``."""
    remote = remote or "unknown"
    if not settings.TRUSTED_PROXIES or not _is_trusted_proxy(remote):
        return remote
    forwarded = [part.strip() for part in forwarded_for.split(",") if part.strip()]
    for hop in reversed(forwarded):
        if not _is_trusted_proxy(hop):
            return hop if _is_ip(hop) else remote
    return forwarded[0] if forwarded and _is_ip(forwarded[0]) else remote


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXIES)


# --- setup ----------------------------------------------------------------------


def is_setup_complete() -> bool:
    """True once the owner exists. Cached positively per process (setup cannot be undone)."""
    global _setup_complete_cache
    if not _setup_complete_cache:
        _setup_complete_cache = get_user_model().objects.filter(is_superuser=True, is_active=True).exists()
    return _setup_complete_cache


def create_owner(password: str) -> AbstractBaseUser:
    """First-run setup: create the owner with this master password (409 once done)."""
    if is_setup_complete():
        raise Conflict("Setup is already complete; log in instead.", code="setup_complete")
    problems = password_problems(password)
    if problems:
        raise WeakPassword(problems)
    user_model = get_user_model()
    try:
        with transaction.atomic():
            if user_model.objects.filter(is_superuser=True).exists():
                raise Conflict("Setup is already complete; log in instead.", code="setup_complete")
            return user_model.objects.create_superuser(username=OWNER_USERNAME, email="", password=password)
    except IntegrityError:
        raise Conflict("Setup is already complete; log in instead.", code="setup_complete") from None


def get_owner() -> AbstractBaseUser | None:
    return get_user_model().objects.filter(username=OWNER_USERNAME, is_active=True).first()


# --- lockout ----------------------------------------------------------------------


def _failures_key(ip: str) -> str:
    return f"auth:failures:{ip}"


def _lock_key(ip: str) -> str:
    return f"auth:lock:{ip}"


def lockout_remaining(ip: str) -> int:
    """Seconds left of a lockout for this address (0 when not locked). Kept in Redis for all processes."""
    until = cache.get(_lock_key(ip))
    return max(0, int(until - time.time())) if until else 0


def _record_failure(ip: str) -> int:
    window = settings.LOGIN_LOCKOUT_MINUTES * 60
    key = _failures_key(ip)
    cache.add(key, 0, timeout=window)
    try:
        failures = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        failures = 1
    if failures >= settings.LOGIN_LOCKOUT_FAILURES:
        cache.set(_lock_key(ip), time.time() + window, timeout=window)
        cache.delete(key)
    return max(0, settings.LOGIN_LOCKOUT_FAILURES - failures)


# --- login / logout ------------------------------------------------------------------


def log_in(request: HttpRequest, password: str) -> IssuedLogin:
    """Check the master password, start a browser session and issue a JWT bound to it."""
    ip = client_ip(request)
    remaining = lockout_remaining(ip)
    if remaining:
        raise LockedOut(remaining)
    owner = get_owner()
    if owner is None or not owner.check_password(password):
        attempts_left = _record_failure(ip)
        if attempts_left == 0:
            raise LockedOut(lockout_remaining(ip))
        raise InvalidCredentials(attempts_left)
    cache.delete(_failures_key(ip))
    owner.backend = "django.contrib.auth.backends.ModelBackend"
    django_login(request, owner)
    request.session.set_expiry(settings.SESSION_COOKIE_AGE)
    request.session.save()
    token = AccessToken.for_user(owner)
    token[SESSION_CLAIM] = request.session.session_key
    return IssuedLogin(access_token=str(token), expires_at=datetime.fromtimestamp(token["exp"], tz=UTC))


def session_store(session_key: str | None = None) -> SessionBase:
    engine = import_module(settings.SESSION_ENGINE)
    return engine.SessionStore(session_key=session_key)


def session_is_live(session_key: str, user_id: object) -> bool:
    """A token's session is live while it exists, has not expired and belongs to the user."""
    data = session_store(session_key).load()
    return bool(data) and str(data.get("_auth_user_id")) == str(user_id)


def log_out(request: HttpRequest, token_session_key: str | None) -> None:
    """End the token's session and the browser session; both stop working in every process.

    WebSockets opened with either session are closed at once on every web process.
    """
    from apps.realtime.publish import disconnect_session  # realtime imports this module

    browser_session_key = request.session.session_key
    if token_session_key:
        session_store(token_session_key).delete(token_session_key)
    django_logout(request)
    for session_key in {token_session_key, browser_session_key} - {None}:
        disconnect_session(session_key)
