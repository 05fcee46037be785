"""Owner account: first-run setup, login with lockout, logout that revokes everywhere.

There is exactly one account, the owner (a Django superuser named ``owner``), so
the same password opens the dashboard, the API and the Django admin. A JWT
carries the key of the Django session created at login (claim ``sid``); the
token is valid only while that session exists in the database, so logging out
anywhere revokes the token and the browser session in every process at once.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from aniworld_site.errors import ApiError, Conflict
from apps.accounts.models import LoginThrottle
from apps.accounts.passwords import password_problems

logger = logging.getLogger(__name__)

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


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    return f"{(seconds + 59) // 60} minutes"


class LockedOut(ApiError):
    _MESSAGES = {
        "address": "Too many failed logins from your address; try again in {wait}.",
        "device": "Too many failed logins from this browser; try again in {wait}.",
        "everyone": (
            "Too many failed logins overall: logins are paused for {wait} for browsers that never logged in "
            "here. A browser you logged in with before still gets in, or run `python manage.py unlock` on "
            "the server."
        ),
    }

    def __init__(self, retry_after: int, scope: str = "address"):
        retry_after = max(1, retry_after)
        super().__init__(
            self._MESSAGES[scope].format(wait=_duration(retry_after)),
            code="locked_out",
            status_code=429,
            details={"retry_after_seconds": retry_after, "scope": scope},
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class IssuedLogin:
    access_token: str
    expires_at: datetime
    device_token: str  # the signed browser id for DEVICE_COOKIE


# --- client address -------------------------------------------------------------


def client_ip(request: HttpRequest) -> str:
    """The caller's address; X-Forwarded-For is believed only when it comes from a trusted proxy."""
    return client_address(request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR", ""))


def client_address(remote: str, forwarded_for: str) -> str:
    """The client behind a connection from ``remote`` that sent ``X-Forwarded-For: forwarded_for``."""
    remote = remote or "unknown"
    if not settings.TRUSTED_PROXIES or not is_trusted_proxy(remote):
        return remote
    forwarded = [part.strip() for part in forwarded_for.split(",") if part.strip()]
    for hop in reversed(forwarded):
        if not is_trusted_proxy(hop):
            return hop if _is_ip(hop) else remote
    return forwarded[0] if forwarded and _is_ip(forwarded[0]) else remote


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_trusted_proxy(address: str) -> bool:
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
# Failed logins are counted per address (IPv6 per /64, since one host gets a whole /64), per known browser
# and for everyone together, in the database (works while Redis is down). After LOGIN_LOCKOUT_FAILURES
# failures an address must wait, 30 s at first, doubling with every further failure up to
# LOGIN_LOCKOUT_MINUTES; a success starts it over. Past LOGIN_GLOBAL_FAILURES_PER_HOUR failures in an hour
# from anywhere, only known browsers may log in for the rest of that hour, which stops address rotation.
# A browser that logged in before carries a signed id (DEVICE_COOKIE) and is judged only by its own
# failures, so someone sharing the owner's address, or rotating addresses, cannot lock the owner out.
# `manage.py unlock` clears the counters.

FIRST_DELAY_SECONDS = 30
GLOBAL_WINDOW = timedelta(hours=1)
FORGET_AFTER = timedelta(hours=24)  # an address with no failure for a day starts over
GLOBAL_KEY = "everyone"
DEVICE_COOKIE = "aniworld_device"
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 3600
_DEVICE_SALT = "apps.accounts.login-device"


def address_key(ip: str) -> str:
    """What a lockout counts against: an IPv4 address, or the /64 network of an IPv6 address."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def new_device_token() -> str:
    return signing.dumps(secrets.token_urlsafe(16), salt=_DEVICE_SALT)


def device_id(token: str | None) -> str | None:
    """The browser id in a device cookie, or None when it is missing, forged or too old."""
    if not token:
        return None
    try:
        return str(signing.loads(token, salt=_DEVICE_SALT, max_age=DEVICE_COOKIE_MAX_AGE))
    except signing.BadSignature:
        return None


def _scopes(ip: str, device: str | None) -> list[tuple[str, str]]:
    """(scope, counter key) pairs that judge this login attempt."""
    if device:
        return [("device", f"device:{device}")]
    return [("address", f"address:{address_key(ip)}"), ("everyone", GLOBAL_KEY)]


def _seconds_until(moment: datetime | None, now: datetime) -> int:
    return max(0, math.ceil((moment - now).total_seconds())) if moment else 0


def _blocked_for(row: LoginThrottle, now: datetime) -> int:
    if row.key == GLOBAL_KEY:
        ends = row.window_started + GLOBAL_WINDOW
        if row.failures >= settings.LOGIN_GLOBAL_FAILURES_PER_HOUR and now < ends:
            return _seconds_until(ends, now)
        return 0
    return _seconds_until(row.blocked_until, now)


def check_lockout(ip: str, device: str | None = None) -> None:
    """Raise :class:`LockedOut` when this address (or browser, or everyone) must wait before trying again."""
    now = timezone.now()
    scopes = _scopes(ip, device)
    rows = {row.key: row for row in LoginThrottle.objects.filter(key__in=[key for _scope, key in scopes])}
    for scope, key in scopes:
        if key in rows and (wait := _blocked_for(rows[key], now)):
            raise LockedOut(wait, scope)


def _delay_seconds(failures: int) -> int:
    beyond = failures - settings.LOGIN_LOCKOUT_FAILURES
    if beyond < 0:
        return 0
    return min(settings.LOGIN_LOCKOUT_MINUTES * 60, FIRST_DELAY_SECONDS * 2 ** min(beyond, 20))


def _count_failure(key: str, now: datetime) -> LoginThrottle:
    row, created = LoginThrottle.objects.select_for_update().get_or_create(
        key=key, defaults={"window_started": now, "last_failure": now}
    )
    if created:  # rotating addresses leave a row each: forget the ones that went quiet
        quiet = Q(last_failure__lt=now - FORGET_AFTER) & (Q(blocked_until__isnull=True) | Q(blocked_until__lt=now))
        LoginThrottle.objects.filter(quiet).delete()
    window = GLOBAL_WINDOW if key == GLOBAL_KEY else FORGET_AFTER
    stale = now - (row.window_started if key == GLOBAL_KEY else row.last_failure) > window
    if stale:
        row.failures, row.window_started, row.blocked_until = 0, now, None
    row.failures += 1
    row.last_failure = now
    if key != GLOBAL_KEY and (delay := _delay_seconds(row.failures)):
        row.blocked_until = now + timedelta(seconds=delay)
    row.save()
    return row


def record_failure(ip: str, device: str | None = None) -> ApiError:
    """Count a wrong password; returns what to answer: :class:`InvalidCredentials`, or :class:`LockedOut`."""
    now = timezone.now()
    with transaction.atomic():
        counted = {key: _count_failure(key, now) for _scope, key in _scopes(ip, device)}
    scope, key = _scopes(ip, device)[0]
    row = counted[key]
    if row.blocked_until and row.blocked_until > now:
        logger.warning("login: %s failed logins from %s; it waits %s s", row.failures, key, _blocked_for(row, now))
        return LockedOut(_blocked_for(row, now), scope)
    everyone = counted.get(GLOBAL_KEY)
    if everyone is not None and everyone.failures == settings.LOGIN_GLOBAL_FAILURES_PER_HOUR:
        logger.warning("login: %s failed logins within an hour; only known browsers may log in", everyone.failures)
    return InvalidCredentials(max(0, settings.LOGIN_LOCKOUT_FAILURES - row.failures))


def forget_failures(ip: str, device: str | None = None) -> None:
    """After a successful login: this address and browser start over (the global count stays)."""
    keys = [f"address:{address_key(ip)}"] + ([f"device:{device}"] if device else [])
    LoginThrottle.objects.filter(key__in=keys).delete()


def unlock(addresses: list[str] | None = None) -> int:
    """Clear lockouts: of the given addresses (and their /64), or every counter. Returns how many were cleared."""
    rows = LoginThrottle.objects.all()
    if addresses:
        rows = rows.filter(key__in=[f"address:{address_key(address)}" for address in addresses])
    deleted, _by_model = rows.delete()
    return deleted


# --- login / logout ------------------------------------------------------------------


def log_in(request: HttpRequest, password: str) -> IssuedLogin:
    """Check the master password, start a browser session and issue a JWT bound to it."""
    ip = client_ip(request)
    device = device_id(request.COOKIES.get(DEVICE_COOKIE))
    check_lockout(ip, device)
    owner = get_owner()
    if owner is None or not owner.check_password(password):
        raise record_failure(ip, device)
    forget_failures(ip, device)
    owner.backend = "django.contrib.auth.backends.ModelBackend"
    django_login(request, owner)
    request.session.set_expiry(settings.SESSION_COOKIE_AGE)
    request.session.save()
    token = AccessToken.for_user(owner)
    token[SESSION_CLAIM] = request.session.session_key
    return IssuedLogin(
        access_token=str(token),
        expires_at=datetime.fromtimestamp(token["exp"], tz=UTC),
        device_token=request.COOKIES[DEVICE_COOKIE] if device else new_device_token(),
    )


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
