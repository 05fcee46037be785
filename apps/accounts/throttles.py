"""Throttles keyed by the real client address, stored in the shared cache (Redis)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import ScopedRateThrottle

from apps.accounts.services import client_ip


class AuthRateThrottle(ScopedRateThrottle):
    """5 requests a minute per client address for login and setup, across every web process."""

    def get_rate(self) -> str:
        return settings.AUTH_THROTTLE_RATE

    def get_ident(self, request) -> str:
        return client_ip(request)

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
