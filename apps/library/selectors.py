"""Reads of the library: preferences in effect, missing and upgradable episodes, API querysets."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet

from apps.catalog import selectors as catalog_selectors
from apps.catalog.types import Language, Site
from apps.configuration import defaults
from apps.configuration import selectors as configuration
from apps.library import naming
from apps.library.models import Episode, EpisodeState, Series
from apps.queue import selectors as queue_selectors

DEFAULT_LANGUAGE_PREFERENCE: tuple[Language, ...] = tuple(
    Language(value) for value in defaults.DEFAULT_LANGUAGE_PREFERENCE
)


def naming_template() -> str:
    """The owner's naming template (the default from docs/architecture.md, "Files on disk", until changed)."""
    return configuration.naming_template() or naming.DEFAULT_TEMPLATE


def parse_languages(values: Iterable[str]) -> tuple[Language, ...]:
    """Language values in order, unknown ones dropped, duplicates removed."""
    seen: list[Language] = []
    for value in values:
        try:
            language = Language(value)
        except ValueError:
            continue
        if language not in seen:
            seen.append(language)
    return tuple(seen)


def language_preference(series: Series | None = None) -> tuple[Language, ...]:
    """Languages the owner accepts, best first: the series' override, else the global setting, else the default."""
    if series is not None and series.language_preference:
        chosen = parse_languages(series.language_preference)
        if chosen:
            return chosen
    return tuple(configuration.language_preference()) or DEFAULT_LANGUAGE_PREFERENCE


def language_rank(language: str | None, preference: Sequence[Language]) -> int | None:
    """0 is best; None when the language is unknown or not wanted at all."""
    if not language:
        return None
    try:
        return list(preference).index(Language(language))
    except ValueError:
        return None


def best_offered_language(offered: Iterable[str], preference: Sequence[Language]) -> Language | None:
    ranked = [(rank, Language(value)) for value in offered if (rank := language_rank(value, preference)) is not None]
    return min(ranked)[1] if ranked else None


class EpisodeStatus:
    """What the owner sees for one episode (the stored state refined with the language rules)."""

    PRESENT = "present"
    UPGRADABLE = "upgradable"
    MISSING = "missing"
    UNAVAILABLE = "unavailable"  # no file and the site offers no wanted language
    QUEUED = "queued"
    DOWNLOADING = "downloading"
    IGNORED = "ignored"


@dataclass(frozen=True)
class EpisodeAssessment:
    status: str
    best_language: Language | None
    reason: str


def assess_episode(episode: Episode, preference: Sequence[Language]) -> EpisodeAssessment:
    """Missing if no file; upgradable if the file's language ranks below the best one now offered.

    An episode whose site languages are not known yet (never refreshed) and has no
    file counts as missing: the queue finds out what is offered when it resolves it.
    A file of unknown language is never called upgradable: we cannot tell.
    """
    offered = episode.languages_available or []
    best = best_offered_language(offered, preference)
    if episode.state == EpisodeState.IGNORED:
        return EpisodeAssessment(EpisodeStatus.IGNORED, best, "ignored by the owner")
    if episode.state in (EpisodeState.QUEUED, EpisodeState.DOWNLOADING):
        return EpisodeAssessment(episode.state, best, f"{episode.state} for download")
    if episode.state == EpisodeState.PRESENT and episode.file_path:
        file_rank = language_rank(episode.file_language, preference)
        best_rank = language_rank(best, preference)
        if best is not None and episode.file_language and (file_rank is None or best_rank < file_rank):
            have = Language(episode.file_language).label
            return EpisodeAssessment(EpisodeStatus.UPGRADABLE, best, f"file is {have}, site now offers {best.label}")
        return EpisodeAssessment(EpisodeStatus.PRESENT, best, "file present")
    if offered and best is None:
        labels = ", ".join(Language(value).label for value in offered if value in Language._value2member_map_)
        return EpisodeAssessment(EpisodeStatus.UNAVAILABLE, None, f"no wanted language offered (site has: {labels})")
    return EpisodeAssessment(EpisodeStatus.MISSING, best, "no file")


def library_is_empty() -> bool:
    return not Series.objects.exists()


def series_with_counts() -> QuerySet[Series]:
    """Series annotated with episode counts; ``missing_count`` counts episodes without a file."""
    return Series.objects.annotate(
        episode_count=Count("seasons__episodes", distinct=True),
        present_count=Count(
            "seasons__episodes", filter=Q(seasons__episodes__state=EpisodeState.PRESENT), distinct=True
        ),
        missing_count=Count(
            "seasons__episodes", filter=Q(seasons__episodes__state=EpisodeState.MISSING), distinct=True
        ),
    )


def filter_series(
    queryset: QuerySet[Series],
    *,
    search: str | None = None,
    missing: bool | None = None,
    site: str | None = None,
    monitored: bool | None = None,
    references: Sequence[tuple[str, str]] | None = None,
) -> QuerySet[Series]:
    """``references``: only these (site, slug) pairs (e.g. to mark search results already in the library)."""
    if references is not None:
        wanted = Q(pk__in=[])
        for ref_site, ref_slug in references:
            wanted |= Q(site=ref_site, slug=ref_slug)
        queryset = queryset.filter(wanted)
    if search:
        term = search.strip()
        queryset = queryset.filter(
            Q(title__icontains=term) | Q(slug__icontains=term) | Q(alternative_titles__icontains=term)
        )
    if missing is True:
        queryset = queryset.filter(missing_count__gt=0)
    elif missing is False:
        queryset = queryset.filter(missing_count=0)
    if site:
        queryset = queryset.filter(site=site)
    if monitored is not None:
        queryset = queryset.filter(monitored=monitored)
    return queryset


def series_episodes(series: Series) -> QuerySet[Episode]:
    return Episode.objects.filter(season__series=series).select_related("season").order_by("season__number", "number")


@dataclass(frozen=True)
class MissingEpisode:
    episode: Episode
    assessment: EpisodeAssessment


def missing_episodes(
    series_list: Iterable[Series] | None = None, *, include_upgradable: bool = True
) -> dict[Series, list[MissingEpisode]]:
    """Per series, the episodes that are missing (and, optionally, upgradable), in season/episode order."""
    series_list = list(series_list) if series_list is not None else list(Series.objects.all())
    wanted = {EpisodeStatus.MISSING} | ({EpisodeStatus.UPGRADABLE} if include_upgradable else set())
    result: dict[Series, list[MissingEpisode]] = {}
    for series in series_list:
        preference = language_preference(series)
        found = []
        for episode in series_episodes(series).exclude(state=EpisodeState.IGNORED):
            assessment = assess_episode(episode, preference)
            if assessment.status in wanted:
                found.append(MissingEpisode(episode, assessment))
        if found:
            result[series] = found
    return result


def series_episode(series: Series, episode_id: int) -> Episode | None:
    return Episode.objects.select_related("season").filter(season__series=series, pk=episode_id).first()


def episode_sources(series: Series, episode: Episode, *, check_now: bool = False) -> dict[str, Any]:
    """What the site offers for one episode (languages, hosters, resolver support; briefly cached) and what the
    queue's latest attempts with each of those sources gave. Raises catalog errors (SiteBlocking while blocked)."""
    offered = catalog_selectors.episode_sources(
        Site(series.site), series.slug, episode.season.number, episode.number, check_now=check_now
    )
    attempts = queue_selectors.source_attempts(episode.pk)
    languages = [
        {
            **entry,
            "hosters": [
                {**hoster, "last_attempts": attempts.get(f"{hoster['hoster']}:{entry['language']}", [])}
                for hoster in entry["hosters"]
            ],
        }
        for entry in offered["languages"]
    ]
    return {
        "series_id": series.pk,
        "episode_id": episode.pk,
        "season": episode.season.number,
        "number": episode.number,
        **offered,
        "languages": languages,
    }


_NUMBER_RANGE = re.compile(r"^(\d+)(?:\s*-\s*(\d+))?$")
MAX_EPISODE_NUMBERS = 5000


def parse_episode_numbers(text: str) -> list[int]:
    """``"1-5,8"`` → ``[1, 2, 3, 4, 5, 8]`` (in the given order, each once); ValueError saying what is wrong."""
    numbers: list[int] = []
    for part in (text or "").split(","):
        match = _NUMBER_RANGE.match(part.strip())
        if not match:
            raise ValueError(f"{part.strip()!r} in {text!r} is not an episode number or a range like 1-5")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if first < 1 or last < first:
            raise ValueError(f"{part.strip()!r}: a range goes from a number of at least 1 up, like 1-5")
        if last - first + len(numbers) >= MAX_EPISODE_NUMBERS:
            raise ValueError(f"{text!r} names more than {MAX_EPISODE_NUMBERS} episodes")
        numbers.extend(range(first, last + 1))
    return list(dict.fromkeys(numbers))


LIBRARY_TOTALS_CACHE_SECONDS = 15


def library_totals() -> dict[str, int]:
    """Counts for the dashboard: series, episodes, missing (no file, not ignored) and upgradable files.

    Upgradable is judged per file with :func:`assess_episode`, reading only present files whose language
    and the site's languages are both known (one query, no model instances). Cached briefly: the dashboard
    asks again on every burst of queue events.
    """
    totals = cache.get(LIBRARY_TOTALS_KEY)
    if totals is None:
        totals = _count_library()
        cache.set(LIBRARY_TOTALS_KEY, totals, LIBRARY_TOTALS_CACHE_SECONDS)
    return totals


LIBRARY_TOTALS_KEY = "library:totals:v1"


def _count_library() -> dict[str, int]:
    episodes = Episode.objects.aggregate(
        total=Count("id"),
        missing=Count("id", filter=Q(state=EpisodeState.MISSING)),
        present=Count("id", filter=Q(state=EpisodeState.PRESENT)),
        ignored=Count("id", filter=Q(state=EpisodeState.IGNORED)),
    )
    preferences = {
        series_id: language_preference(Series(language_preference=override))
        for series_id, override in Series.objects.values_list("id", "language_preference")
    }
    candidates = (
        Episode.objects.filter(state=EpisodeState.PRESENT, file_language__isnull=False)
        .exclude(file_path="")
        .exclude(languages_available=[])
        .values_list("season__series_id", "file_language", "languages_available", "file_path")
    )
    upgradable = 0
    for series_id, file_language, offered, file_path in candidates.iterator(chunk_size=2000):
        probe = Episode(
            state=EpisodeState.PRESENT, file_language=file_language, languages_available=offered, file_path=file_path
        )
        if assess_episode(probe, preferences[series_id]).status == EpisodeStatus.UPGRADABLE:
            upgradable += 1
    return {
        "series": len(preferences),
        "episodes": episodes["total"],
        "present": episodes["present"],
        "missing": episodes["missing"],
        "ignored": episodes["ignored"],
        "upgradable": upgradable,
    }
