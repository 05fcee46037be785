"""Reads of the hoster scorecard: scores for the automatic hoster order, the stats, the connection memory.

Every figure is aggregated by the database over the counters of the last
:data:`~apps.scorecard.scoring.WINDOW_HOURS` hours (see :mod:`apps.scorecard.scoring`
for the rule); the age weight is computed in SQL too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, FloatField, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Coalesce, Power
from django.utils import timezone

from apps.catalog.resolvers import hoster_order as configured_hoster_order
from apps.catalog.types import Site
from apps.configuration.selectors import hoster_order_automatic
from apps.scorecard.models import FAILURES, HosterConnectionRule, HosterOutcomeCount, Outcome
from apps.scorecard.scoring import (
    HALF_LIFE_HOURS,
    WINDOW_HOURS,
    HosterScore,
    automatic_order,
    canonical_hoster,
    hour_of,
    name_key,
)

# How long a hoster that refused parallel connections gets one connection before parallel ones are tried again.
SINGLE_CONNECTION_MEMORY = timedelta(days=7)


def _window(now: datetime) -> QuerySet[HosterOutcomeCount]:
    return HosterOutcomeCount.objects.filter(hour__gt=hour_of(now) - WINDOW_HOURS)


def _float(expression: Any) -> Cast:
    return Cast(expression, FloatField())


def _weighted(field: str, now: datetime) -> Any:
    """``field`` times the age weight ``0.5 ** (age_hours / HALF_LIFE_HOURS)``, in SQL."""
    age_hours = _float(Value(hour_of(now)) - F("hour"))
    return _float(F(field)) * _float(Power(Value(0.5), age_hours / Value(HALF_LIFE_HOURS)))


def hoster_scores(site: Site | str, now: datetime | None = None) -> dict[str, HosterScore]:
    """Each hoster with attempts on ``site`` in the window, by :func:`~apps.scorecard.scoring.name_key`."""
    now = now or timezone.now()
    rows = (
        _window(now)
        .filter(site=Site(site).value)
        .values("hoster")
        .annotate(
            weighted_attempts=Sum(_weighted("attempts", now)),
            weighted_successes=Coalesce(Sum(_weighted("attempts", now), filter=Q(outcome=Outcome.SUCCESS)), 0.0),
            weighted_bytes=Sum(_weighted("bytes_received", now)),
            weighted_seconds=Sum(_weighted("transfer_seconds", now)),
        )
    )
    return {
        name_key(row["hoster"]): HosterScore(
            weighted_attempts=row["weighted_attempts"],
            weighted_successes=row["weighted_successes"],
            throughput=_rate(row["weighted_bytes"], row["weighted_seconds"]),
        )
        for row in rows
    }


def _rate(amount: float | None, seconds: float | None) -> float | None:
    return amount / seconds if amount and seconds else None


def hoster_order(site: Site | str, now: datetime | None = None) -> tuple[str, ...]:
    """The hoster order a download from ``site`` follows: the configured order, or with the
    owner's ``hoster_order_automatic`` setting on, that order rearranged by recent outcomes."""
    configured = configured_hoster_order()
    if not hoster_order_automatic():
        return configured
    return tuple(automatic_order(configured, hoster_scores(site, now)))


def allows_parallel(site: Site | str, hoster: str, now: datetime | None = None) -> bool:
    """False while ``hoster`` is remembered as refusing parallel connections on ``site`` (see ``mark_single_connection``)."""
    since = (now or timezone.now()) - SINGLE_CONNECTION_MEMORY
    return not HosterConnectionRule.objects.filter(
        site=Site(site).value, hoster=canonical_hoster(hoster), single_connection_since__gt=since
    ).exists()


def hoster_stats(now: datetime | None = None) -> dict[str, Any]:
    """The scorecard for ``/api/queue/stats``: per site and hoster, the window's outcomes, and the order in force."""
    now = now or timezone.now()
    per_outcome = {outcome.value: Coalesce(Sum("attempts", filter=Q(outcome=outcome)), 0) for outcome in Outcome}
    rows = (
        _window(now)
        .values("site", "hoster")
        .annotate(
            total=Sum("attempts"),
            ttfb_total=Sum("ttfb_seconds"),
            ttfb_count=Sum("ttfb_samples"),
            bytes_total=Sum("bytes_received"),
            seconds_total=Sum("transfer_seconds"),
            last_attempt_at=Max("last_attempt_at"),
            **per_outcome,
        )
        .order_by("site", "hoster")
    )
    single = set(
        HosterConnectionRule.objects.filter(single_connection_since__gt=now - SINGLE_CONNECTION_MEMORY).values_list(
            "site", "hoster"
        )
    )
    scores = {site.value: hoster_scores(site, now) for site in Site}
    automatic = hoster_order_automatic()
    configured = configured_hoster_order()
    hosters = [
        {
            "site": row["site"],
            "hoster": row["hoster"],
            "attempts": row["total"],
            "successes": row[Outcome.SUCCESS.value],
            "failures": {outcome.value: row[outcome.value] for outcome in FAILURES},
            "success_rate": row[Outcome.SUCCESS.value] / row["total"] if row["total"] else None,
            "score": _score(scores, row["site"], row["hoster"]),
            "average_ttfb_seconds": _rate(row["ttfb_total"], row["ttfb_count"]),
            "throughput": _rate(row["bytes_total"], row["seconds_total"]),
            "last_attempt_at": row["last_attempt_at"],
            "parallel_connections": (row["site"], row["hoster"]) not in single,
        }
        for row in rows
    ]
    return {
        "automatic_order": automatic,
        "window_hours": WINDOW_HOURS,
        "half_life_hours": HALF_LIFE_HOURS,
        "order": {
            site: automatic_order(configured, site_scores) if automatic else list(configured)
            for site, site_scores in scores.items()
        },
        "scores": hosters,
    }


def _score(scores: dict[str, dict[str, HosterScore]], site: str, hoster: str) -> float | None:
    found = scores.get(site, {}).get(name_key(hoster))
    return round(found.score, 4) if found else None
