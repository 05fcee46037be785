"""Writes of the hoster scorecard: one attempt's outcome, and a hoster's "one connection only" memory.

Recording never raises: the scorecard is advice for the next download, and a
failed write must not turn a finished download into a failed one.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.catalog.types import Site
from apps.scorecard.models import HosterConnectionRule, HosterOutcomeCount, Outcome
from apps.scorecard.scoring import WINDOW_HOURS, canonical_hoster, hour_of

logger = logging.getLogger("aniworld.download")


def record_attempt(
    site: Site | str,
    hoster: str,
    outcome: Outcome,
    *,
    ttfb_seconds: float | None = None,
    bytes_received: int = 0,
    transfer_seconds: float = 0.0,
    at: datetime | None = None,
) -> None:
    """Count one attempt with ``hoster`` on ``site`` (in its hour's counter row)."""
    at = at or timezone.now()
    key = {"site": Site(site).value, "hoster": canonical_hoster(hoster), "hour": hour_of(at), "outcome": outcome}
    measured = {
        "ttfb_samples": 1 if ttfb_seconds is not None else 0,
        "ttfb_seconds": max(0.0, ttfb_seconds or 0.0),
        "bytes_received": max(0, bytes_received),
        "transfer_seconds": max(0.0, transfer_seconds),
    }
    increments = {
        "attempts": F("attempts") + 1,
        **{field: F(field) + value for field, value in measured.items()},
        "last_attempt_at": at,
    }
    try:
        counters = HosterOutcomeCount.objects.filter(**key)
        if counters.update(**increments):
            return
        try:
            with transaction.atomic():
                HosterOutcomeCount.objects.create(**key, attempts=1, last_attempt_at=at, **measured)
        except IntegrityError:  # another worker created this hour's row first
            counters.update(**increments)
            return
        HosterOutcomeCount.objects.filter(hour__lte=key["hour"] - WINDOW_HOURS).delete()
    except Exception as exc:
        logger.warning("could not record a %s attempt with %s on %s: %s", outcome, hoster, site, exc)


def mark_single_connection(
    site: Site | str, hoster: str, status: int | None = None, at: datetime | None = None
) -> None:
    """Remember that ``hoster`` refuses parallel connections (``status`` 429/403 to parallel ranges) on ``site``.

    :func:`apps.scorecard.selectors.allows_parallel` answers False for
    :data:`apps.scorecard.selectors.SINGLE_CONNECTION_MEMORY` after the latest mark.
    ``functools.partial(mark_single_connection, site, hoster)`` fits the engine's
    ``on_parallel_refused(status)`` callback.
    """
    try:
        HosterConnectionRule.objects.update_or_create(
            site=Site(site).value,
            hoster=canonical_hoster(hoster),
            defaults={"single_connection_since": at or timezone.now(), "refused_status": status},
        )
    except Exception as exc:
        logger.warning("could not remember that %s on %s allows one connection only: %s", hoster, site, exc)


class AttemptMeter:
    """Measures one download attempt from the engine's progress reports: time to first byte and throughput.

    ``start(baseline)`` when the engine is called (``baseline`` = bytes of a
    partial file it resumes from); ``saw(bytes_done)`` on every progress report.
    Time to first byte runs from the engine call to the first report of more
    than ``baseline`` bytes (it includes the hoster's answer to the media
    request); throughput is the bytes received over the time from the engine
    call to the latest report.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started: float | None = None
        self.baseline = 0
        self.first_byte_at: float | None = None
        self.last_at: float | None = None
        self.last_bytes = 0

    def start(self, baseline: int = 0) -> None:
        with self._lock:
            self.started = time.monotonic()
            self.baseline = self.last_bytes = max(0, baseline)
            self.first_byte_at = self.last_at = None

    def saw(self, bytes_done: int) -> None:
        now = time.monotonic()
        with self._lock:
            if self.started is None or bytes_done <= self.last_bytes:
                return
            if self.first_byte_at is None:
                self.first_byte_at = now
            self.last_at = now
            self.last_bytes = bytes_done

    @property
    def ttfb_seconds(self) -> float | None:
        if self.started is None or self.first_byte_at is None:
            return None
        return self.first_byte_at - self.started

    @property
    def bytes_received(self) -> int:
        return self.last_bytes - self.baseline

    @property
    def transfer_seconds(self) -> float:
        if self.started is None or self.last_at is None:
            return 0.0
        return self.last_at - self.started

    def record(self, site: Site | str, hoster: str, outcome: Outcome) -> None:
        """Count this attempt's outcome together with what was measured (nothing measured when it never started)."""
        record_attempt(
            site,
            hoster,
            outcome,
            ttfb_seconds=self.ttfb_seconds,
            bytes_received=self.bytes_received,
            transfer_seconds=self.transfer_seconds,
        )
