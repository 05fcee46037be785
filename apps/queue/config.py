"""The owner's settings the queue uses, read through apps.configuration with safe defaults.

One small adapter, so the queue works (with the documented defaults) even where
a setting is not available, and tests can see every knob in one place.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings

from apps.catalog.types import Language

logger = logging.getLogger(__name__)

DEFAULT_MAX_CONCURRENT_DOWNLOADS = 2
DEFAULT_MAX_RETRIES = 3
DEFAULT_RETRY_BACKOFF_SECONDS = 30
MAX_RETRY_BACKOFF_SECONDS = 6 * 3600
DEFAULT_LANGUAGES = (Language.GERMAN_DUB.value, Language.GERMAN_SUB.value, Language.ENGLISH_SUB.value)
DEFAULT_HOSTERS = ("VOE", "Filemoon", "Vidmoly", "Vidoza", "Doodstream")


def _selector(name: str) -> Callable[..., Any] | None:
    try:
        from apps.configuration import selectors
    except ImportError:
        return None
    getter = getattr(selectors, name, None)
    return getter if callable(getter) else None


def _read(name: str, default: Any, *args: Any) -> Any:
    getter = _selector(name)
    if getter is None:
        return default
    try:
        value = getter(*args)
    except Exception as exc:  # a broken settings row must not stop downloads; say so
        logger.warning("configuration %s unavailable (%s); using the default %r", name, exc, default)
        return default
    return default if value is None else value


def max_concurrent_downloads() -> int:
    return max(1, int(_read("max_concurrent_downloads", DEFAULT_MAX_CONCURRENT_DOWNLOADS)))


def max_retries() -> int:
    return max(0, int(_read("max_retries", DEFAULT_MAX_RETRIES)))


def retry_backoff_seconds(attempt: int) -> int:
    """Delay before retry number ``attempt`` (1 = the first retry): base, 2x, 4x, … capped."""
    getter = _selector("retry_backoff_seconds")
    if getter is not None:
        try:
            return int(getter(attempt))
        except Exception as exc:
            logger.warning("configuration retry_backoff_seconds unavailable (%s); using the default", exc)
    return min(MAX_RETRY_BACKOFF_SECONDS, DEFAULT_RETRY_BACKOFF_SECONDS * 2 ** max(0, attempt - 1))


def language_preference() -> list[str]:
    values = [str(getattr(value, "value", value)) for value in _read("language_preference", DEFAULT_LANGUAGES)]
    return values or list(DEFAULT_LANGUAGES)


def hoster_preference() -> list[str]:
    return [str(value) for value in _read("hoster_preference", DEFAULT_HOSTERS)] or list(DEFAULT_HOSTERS)


def speed_limit() -> int | None:
    """Bytes per second for each download; None = unlimited."""
    value = int(_read("speed_limit", 0) or 0)
    return value if value > 0 else None


def library_root() -> Path:
    return Path(_read("library_root", settings.DEFAULT_LIBRARY_DIR))


def _seconds(setting: str, environment: str, default: float) -> float:
    value = getattr(settings, setting, None)
    if value is None:
        value = os.environ.get(environment, default)
    return float(value)


def lease_seconds() -> float:
    """How long a worker's claim on an item lasts without renewal (it renews every few seconds)."""
    return _seconds("QUEUE_LEASE_SECONDS", "ANIWORLD_QUEUE_LEASE_SECONDS", 60)


def dispatch_timeout_seconds() -> float:
    """How long a dispatched (``queued``) item may wait for a worker before the reaper sends it again."""
    return _seconds("QUEUE_DISPATCH_TIMEOUT_SECONDS", "ANIWORLD_QUEUE_DISPATCH_TIMEOUT_SECONDS", 600)


def progress_write_seconds() -> float:
    """How often a running download writes its progress to the database."""
    return _seconds("QUEUE_PROGRESS_WRITE_SECONDS", "ANIWORLD_QUEUE_PROGRESS_WRITE_SECONDS", 3)


def control_check_seconds() -> float:
    """How often a running download checks whether it was cancelled or the queue stopped."""
    return _seconds("QUEUE_CONTROL_CHECK_SECONDS", "ANIWORLD_QUEUE_CONTROL_CHECK_SECONDS", 0.5)


def unknown_size_estimate_bytes() -> int:
    """Free space demanded before a download whose size the hoster does not announce."""
    return int(_seconds("QUEUE_UNKNOWN_SIZE_BYTES", "ANIWORLD_QUEUE_UNKNOWN_SIZE_BYTES", 300 * 1024 * 1024))
