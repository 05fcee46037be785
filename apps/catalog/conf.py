"""Catalog settings: site base URLs, hoster order, request rate, retry timing, allow-listed hosts.

Each value comes from, in order:

1. the environment (``ANIWORLD_ANIWORLD_URL``, ``ANIWORLD_STO_URL``,
   ``ANIWORLD_HOSTER_ORDER``, ``ANIWORLD_CATALOG_REQUESTS_PER_SECOND``,
   ``ANIWORLD_CATALOG_RETRY_DELAY``, ``ANIWORLD_CATALOG_BLOCK_COOLDOWN``,
   ``ANIWORLD_CATALOG_ALLOWED_HOSTS``, ``ANIWORLD_CATALOG_IMPERSONATE``) — for tests and the demo, which point
   the catalog at the fake site. They are read when used (a test or the demo may change them), through
   the strict parser of ``aniworld_site.env``; ``aniworld_site/settings.py`` calls :func:`check_environment`
   so a bad value stops start-up instead of silently meaning the default;
2. a settings source registered with :func:`use_settings_source` — the
   Configuration app registers one that reads the owner's settings from the
   database (keys are the ``KEY_*`` constants below; return ``None`` for "not set");
3. the defaults here (the default hoster order is the resolver registry's).

Nothing here needs Django's settings, so the fake site and scripts can use it freely.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from aniworld_site.env import env_float, env_str
from apps.catalog.types import Site

KEY_BASE_URL = {Site.ANIWORLD: "catalog.aniworld_url", Site.STO: "catalog.sto_url"}
KEY_HOSTER_ORDER = "catalog.hoster_order"
KEY_REQUESTS_PER_SECOND = "catalog.requests_per_second"

ENV_BASE_URL = {Site.ANIWORLD: "ANIWORLD_ANIWORLD_URL", Site.STO: "ANIWORLD_STO_URL"}
ENV_HOSTER_ORDER = "ANIWORLD_HOSTER_ORDER"
ENV_REQUESTS_PER_SECOND = "ANIWORLD_CATALOG_REQUESTS_PER_SECOND"
ENV_RETRY_DELAY = "ANIWORLD_CATALOG_RETRY_DELAY"
ENV_BLOCK_COOLDOWN = "ANIWORLD_CATALOG_BLOCK_COOLDOWN"
ENV_ALLOWED_HOSTS = "ANIWORLD_CATALOG_ALLOWED_HOSTS"
ENV_IMPERSONATE = "ANIWORLD_CATALOG_IMPERSONATE"
DEFAULT_IMPERSONATE = "chrome"

DEFAULT_BASE_URL = {Site.ANIWORLD: "https://aniworld.to", Site.STO: "https://s.to"}
DEFAULT_REQUESTS_PER_SECOND = 1.0
# Per catalog site: polite, since both sites block eager clients (docs/architecture.md, "Catalog facts").
DEFAULT_SITE_REQUESTS_PER_SECOND = {Site.ANIWORLD: 1.0, Site.STO: 0.5}
DEFAULT_RETRY_DELAY_SECONDS = 1.0
DEFAULT_BLOCK_COOLDOWN_SECONDS = 30 * 60

logger = logging.getLogger(__name__)

SettingsSource = Callable[[str], Any]
_settings_source: SettingsSource | None = None


def use_settings_source(source: SettingsSource | None) -> None:
    """Register (or with ``None`` remove) the function that reads owner settings by key."""
    global _settings_source
    _settings_source = source


def settings_source() -> SettingsSource | None:
    """The registered source (tests use it to put back what they replaced)."""
    return _settings_source


def _from_source(key: str) -> Any:
    """The owner's value for ``key``; None when unset or when the source fails (then defaults apply)."""
    if _settings_source is None:
        return None
    try:
        return _settings_source(key)
    except Exception as exc:  # e.g. the database is not reachable or not migrated yet
        logger.warning("catalog setting %s unavailable (%s); using the default", key, exc)
        return None


def _env(name: str) -> str | None:
    return env_str(name, "") or None


def normalise_base_url(value: str) -> str:
    """``https://host[:port][/prefix]`` without a trailing slash; ValueError for anything else."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL")
    if parts.query or parts.fragment:
        raise ValueError(f"{value!r} must not have a query or fragment")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def site_base_url(site: Site) -> str:
    raw = _env(ENV_BASE_URL[site]) or _from_source(KEY_BASE_URL[site]) or DEFAULT_BASE_URL[site]
    return normalise_base_url(str(raw))


def hoster_order() -> tuple[str, ...]:
    """The configured hoster names, most preferred first; empty when nothing is configured.

    The default order belongs to the resolver registry
    (:func:`apps.catalog.resolvers.hoster_order` falls back to it).
    """
    raw = _env(ENV_HOSTER_ORDER) or _from_source(KEY_HOSTER_ORDER)
    if not raw:
        return ()
    names = raw.split(",") if isinstance(raw, str) else list(raw)
    return tuple(name.strip() for name in names if str(name).strip())


def _positive_float(raw: Any, default: float) -> float:
    """An owner setting from the source (validated when saved); the default for anything else."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default


def requests_per_second(bucket: str) -> float:
    """Polite request rate for one site or hoster (``bucket`` is e.g. ``"aniworld"`` or ``"hoster:VOE"``).

    The source is asked for ``catalog.requests_per_second:<site>`` for a site, then for the general key.
    """
    if _env(ENV_REQUESTS_PER_SECOND) is not None:
        return env_float(ENV_REQUESTS_PER_SECOND, DEFAULT_REQUESTS_PER_SECOND, above=0)
    raw = None
    if bucket in {site.value for site in Site}:
        raw = _from_source(f"{KEY_REQUESTS_PER_SECOND}:{bucket}")
    if raw is None:
        raw = _from_source(KEY_REQUESTS_PER_SECOND)
    return _positive_float(raw, DEFAULT_REQUESTS_PER_SECOND) if raw is not None else DEFAULT_REQUESTS_PER_SECOND


def retry_base_delay() -> float:
    return env_float(ENV_RETRY_DELAY, DEFAULT_RETRY_DELAY_SECONDS, above=0)


def block_cooldown_seconds() -> float:
    return env_float(ENV_BLOCK_COOLDOWN, DEFAULT_BLOCK_COOLDOWN_SECONDS, above=0)


def allowed_hosts() -> frozenset[str]:
    """Explicitly trusted ``host`` or ``host:port`` entries (lower case); empty unless configured."""
    raw = _env(ENV_ALLOWED_HOSTS) or ""
    return frozenset(entry.strip().lower() for entry in raw.split(",") if entry.strip())


def impersonation() -> str | None:
    """Browser that curl_cffi impersonates (e.g. "chrome", "firefox"); None ("off") for plain httpx."""
    raw = (_env(ENV_IMPERSONATE) or DEFAULT_IMPERSONATE).lower()
    return None if raw in ("off", "none", "no", "0", "false", "httpx") else raw


def check_environment() -> None:
    """Read every catalog variable once (settings.py calls this): a bad value raises ImproperlyConfigured."""
    for site in Site:
        if _env(ENV_BASE_URL[site]):
            try:
                normalise_base_url(str(_env(ENV_BASE_URL[site])))
            except ValueError as exc:
                raise ImproperlyConfigured(f"{ENV_BASE_URL[site]}: {exc}") from None
    if _env(ENV_REQUESTS_PER_SECOND) is not None:
        env_float(ENV_REQUESTS_PER_SECOND, DEFAULT_REQUESTS_PER_SECOND, above=0)
    retry_base_delay()
    block_cooldown_seconds()
