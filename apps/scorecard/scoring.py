"""The automatic hoster order's scoring rule, as pure functions (no database), and the scorecard's keys.

For each hoster of a catalog site, the attempts of the last :data:`WINDOW_HOURS`
count, each weighted by its age: ``weight = 0.5 ** (age_hours / HALF_LIFE_HOURS)``,
so an attempt of a day ago counts half as much as one of now. From the weighted
attempts ``n`` and weighted successes ``s``:

* **score** = ``(s + 1) / (n + 2)``: the success rate with one imagined success
  and one imagined failure, so one lucky download does not outrank a hoster that
  worked 19 times out of 20;
* hosters are ordered by their score's **band** (``floor(score * 10)``: within
  ten percentage points counts as equally reliable), then by **throughput**
  (bytes per second of their recent transfers, faster first; unknown last), then
  by their configured rank;
* hosters with **no attempt in the window** keep their configured position; the
  scored hosters fill the other positions, best first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from apps.catalog.resolvers import resolver_by_name

WINDOW_HOURS = 7 * 24
HALF_LIFE_HOURS = 24.0
SCORE_BANDS = 10


@dataclass(frozen=True)
class HosterScore:
    """What the ordering needs to know about one hoster's recent attempts (weighted by age)."""

    weighted_attempts: float
    weighted_successes: float
    throughput: float | None = None  # bytes per second, None when no transfer was measured

    @property
    def score(self) -> float:
        return smoothed_success_rate(self.weighted_successes, self.weighted_attempts)

    @property
    def band(self) -> int:
        return score_band(self.score)


def decay_weight(age_hours: float) -> float:
    """How much an attempt ``age_hours`` old counts (1 for now, 0.5 after one half-life)."""
    return 0.5 ** (max(0.0, age_hours) / HALF_LIFE_HOURS)


def smoothed_success_rate(successes: float, attempts: float) -> float:
    """``(successes + 1) / (attempts + 2)``: 0.5 without data, approaching the plain rate as attempts grow."""
    return (successes + 1.0) / (attempts + 2.0)


def score_band(score: float) -> int:
    return min(SCORE_BANDS - 1, math.floor(score * SCORE_BANDS))


def name_key(hoster: str) -> str:
    return hoster.strip().lower()


def canonical_hoster(hoster: str) -> str:
    """The resolver's spelling of a hoster name ("voe" and "VOE" count as one), else the name as given."""
    resolver = resolver_by_name(hoster)
    return resolver.name if resolver is not None else hoster.strip()[:40]


def hour_of(moment: datetime) -> int:
    """The counters' hour bucket: hours since 1970-01-01 00:00 UTC."""
    return int(moment.timestamp() // 3600)


def automatic_order(configured: Sequence[str], scores: Mapping[str, HosterScore]) -> list[str]:
    """``configured`` reordered by the scores (keyed by :func:`name_key`); see the module docstring for the rule."""
    rank = {name_key(name): index for index, name in enumerate(configured)}
    scored = [name for name in configured if name_key(name) in scores]
    scored.sort(
        key=lambda name: (
            -scores[name_key(name)].band,
            -(scores[name_key(name)].throughput or 0.0),
            rank[name_key(name)],
        )
    )
    best_first = iter(scored)
    return [next(best_first) if name_key(name) in scores else name for name in configured]
