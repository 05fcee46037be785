"""Throttles keyed by the real client address (IPv6 by /64), stored in the shared cache (Redis)."""

from __future__ import annotations

import logging

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.throttling import ScopedRateThrottle

from apps.accounts.services import address_key, client_ip

logger = logging.getLogger(__name__)


class AuthRateThrottle(ScopedRateThrottle):
    """5 requests a minute per client address for login and setup, across every web process.

    While Redis is unreachable the throttle lets requests through (and says so in the log): the login
    lockout keeps its counters in the database, so password guessing stays limited.
    """

    def get_rate(self) -> str:
        return settings.AUTH_THROTTLE_RATE

    def get_ident(self, request) -> str:
        return address_key(client_ip(request))

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as exc:
            logger.warning("auth throttle skipped: Redis is unreachable (%s); the login lockout still applies", exc)
            return True
