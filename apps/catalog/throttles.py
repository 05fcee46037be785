"""Per-user limit on work that reaches the catalog sites (search, add, refresh), shared by all web processes.

Stored in the cache (Redis) like the login throttle, so no client — not even a logged-in one
in a loop — can make us hammer aniworld.to / s.to until they block the owner's address.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class CatalogRateThrottle(SimpleRateThrottle):
    """``settings.CATALOG_USER_RATE`` requests per user (per address for the anonymous) to catalog endpoints."""

    scope = "catalog"

    def get_rate(self) -> str:
        return settings.CATALOG_USER_RATE

    def allow_request(self, request, view) -> bool:
        self.rate = self.get_rate()  # read per request: the setting can change (tests, reloads)
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
