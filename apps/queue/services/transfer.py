"""Queue import and export: our portable JSON, and the original AniWorld-Downloader's ``download_queue.json``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.catalog import services as catalog
from apps.catalog.types import Language
from apps.library.models import Episode
from apps.queue.errors import InvalidQueueRequest
from apps.queue.models import DownloadItem, ItemState, Priority
from apps.queue.selectors import queue_state
from apps.queue.services.commands import enqueue_episodes
from apps.queue.services.common import announce, control_row, episode_label, take_positions

# --- import (backup restore and migration from the original download_queue.json) ----------------------

_SITE_ALIASES = {
    "aniworld": "aniworld",
    "aniworld.to": "aniworld",
    "sto": "sto",
    "s.to": "sto",
    "serienstream.to": "sto",
}
_LANGUAGE_ALIASES = {
    **{language.value: language.value for language in Language},
    **{language.label.lower(): language.value for language in Language},
    "1": Language.GERMAN_DUB.value,
    "2": Language.ENGLISH_SUB.value,
    "3": Language.GERMAN_SUB.value,
    "4": Language.ENGLISH_DUB.value,
    "german": Language.GERMAN_DUB.value,
    "german dub": Language.GERMAN_DUB.value,
    "english": Language.ENGLISH_SUB.value,
}
_OPEN_STATUS = {"pending", "queued", "downloading", "active", "paused", "waiting", ""}
_SECTIONS = ("active", "pending", "queue", "items", "downloads", "failed", "completed")


@dataclass(frozen=True)
class ImportEntry:
    """One queue entry, whatever file it came from."""

    site: str
    slug: str
    season: int
    episode: int
    status: str
    priority: str = "normal"
    language: str | None = None
    attempts: int = 0
    error: str = ""


def _entries(document: Any) -> list[tuple[str, dict[str, Any]]]:
    """(section, raw entry) pairs from our export, the original's sectioned object, or a bare list."""
    if isinstance(document, list):
        return [("", entry) for entry in document]
    if not isinstance(document, dict):
        raise InvalidQueueRequest("The queue file must hold a JSON object or list.")
    found: list[tuple[str, dict[str, Any]]] = []
    for section in _SECTIONS:
        value = document.get(section)
        if isinstance(value, list):
            found.extend((section, entry) for entry in value)
        elif isinstance(value, dict):  # {"<id>": entry, …}
            found.extend((section, entry) for entry in value.values())
    return found


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _from_url(url: str) -> tuple[str | None, str | None, int | None, int | None]:
    """Site, slug, season and number from a catalog URL (the catalog's parser); Nones when it is none."""
    if not url:
        return None, None, None, None
    try:
        target = catalog.parse_catalog_url(url)
    except ValueError:
        return None, None, None, None
    return target.site.value, target.slug, target.season, target.episode


def parse_import_entry(section: str, raw: Any) -> ImportEntry:
    """Map one entry to :class:`ImportEntry`; raises ValueError with a reason when it cannot be placed.

    Understood keys (ours, then the original AniWorld-Downloader's): ``site`` (aniworld, sto,
    aniworld.to, s.to; else from the URL host; default aniworld); the series as ``slug``,
    ``serie_id``, ``key`` or ``anime_slug``, or from ``url``/``serie_url``/``link``
    (``/anime/stream/<slug>/staffel-<n>/episode-<m>``, films as season 0); ``season`` and
    ``episode`` as numbers or ``episode: {"season", "episode"}``; ``language`` as a code,
    a label ("German Dub") or the original's numeric key (1 de, 2 en-sub, 3 de-sub);
    ``priority`` (high/normal/low); ``status`` (else the section name); ``retry_count`` or
    ``attempts``; ``error`` or ``last_error``.
    """
    if not isinstance(raw, dict):
        raise ValueError("not a JSON object")
    url = str(raw.get("url") or raw.get("serie_url") or raw.get("link") or raw.get("episode_url") or "")
    url_site, url_slug, url_season, url_number = _from_url(url)
    slug = raw.get("slug") or raw.get("serie_id") or raw.get("key") or raw.get("anime_slug") or url_slug
    if not slug:
        raise ValueError("no series (slug, serie_id or url)")
    site_value = str(raw.get("site") or url_site or "aniworld").lower()
    site = _SITE_ALIASES.get(site_value)
    if site is None:
        raise ValueError(f"unknown site {raw.get('site')!r}")
    episode_field = raw.get("episode")
    if isinstance(episode_field, dict):
        season, number = _as_int(episode_field.get("season")), _as_int(episode_field.get("episode"))
    else:
        season, number = _as_int(raw.get("season")), _as_int(episode_field)
    if season is None or number is None:
        season, number = url_season, url_number
    if season is None or number is None or season < 0 or number < 0:
        raise ValueError("no season/episode numbers")
    language_value = raw.get("language")
    language = None
    if language_value not in (None, ""):
        language = _LANGUAGE_ALIASES.get(str(language_value).strip().lower())
        if language is None:
            raise ValueError(f"unknown language {language_value!r}")
    priority = str(raw.get("priority") or "normal").lower()
    if priority not in ("high", "normal", "low"):
        raise ValueError(f"unknown priority {raw.get('priority')!r}")
    status_value = str(raw.get("status") or raw.get("state") or section).lower()
    return ImportEntry(
        site=site,
        slug=str(slug),
        season=season,
        episode=number,
        status=status_value,
        priority=priority,
        language=language,
        attempts=_as_int(raw.get("retry_count", raw.get("attempts"))) or 0,
        error=str(raw.get("error") or raw.get("last_error") or ""),
    )


def import_queue(document: Any) -> dict[str, Any]:
    """Load a queue file (our export or the original ``download_queue.json``) into the queue.

    Open entries (pending, queued, downloading, active, paused) are queued again
    with their priority and language; failed ones are recorded as failed with
    their error; finished ones are reported as skipped. Episodes must already be
    in the library (add the series first); anything that cannot be placed is
    reported with its reason, never silently dropped.
    """
    imported: list[int] = []
    skipped: list[dict[str, Any]] = []
    entries = _entries(document)
    for index, (section, raw) in enumerate(entries):
        try:
            entry = parse_import_entry(section, raw)
        except ValueError as exc:
            skipped.append({"entry": index, "reason": str(exc)})
            continue
        where = f"{entry.site}:{entry.slug} S{entry.season:02d}E{entry.episode:02d}"
        episode = Episode.objects.filter(
            season__series__site=entry.site,
            season__series__slug=entry.slug,
            season__number=entry.season,
            number=entry.episode,
        ).first()
        if episode is None:
            skipped.append({"entry": index, "reason": f"{where} is not in the library; add the series first"})
            continue
        if entry.status in _OPEN_STATUS:
            result = enqueue_episodes([episode.pk], entry.priority, entry.language)
            if result["queued"]:
                imported.append(result["queued"][0]["id"])
            else:
                skipped.append({"entry": index, "reason": f"{where}: {result['skipped'][0]['reason']}"})
        elif entry.status == "failed":
            imported.append(_import_failed(episode, entry).pk)
        else:
            skipped.append({"entry": index, "reason": f"{where}: {entry.status} entries are not imported"})
    return {"entries": len(entries), "imported": imported, "skipped": skipped}


def _import_failed(episode: Episode, entry: ImportEntry) -> DownloadItem:
    with transaction.atomic():
        control = control_row(lock=True)
        episode = Episode.objects.select_related("season__series").get(pk=episode.pk)
        item = DownloadItem.objects.create(
            episode=episode,
            site=entry.site,
            label=episode_label(episode)[:600],
            language=entry.language,
            priority=Priority.from_name(entry.priority),
            position=take_positions(control, 1),
            state=ItemState.FAILED,
            attempts=entry.attempts,
            last_error=entry.error or "failed before the import",
            finished_at=timezone.now(),
        )
        announce([item.pk], "imported")
    return item


# --- export ---

EXPORT_FORMAT = "aniworld-queue"
EXPORT_VERSION = 1


def export_queue(include_finished: bool = False) -> dict[str, Any]:
    """The queue as portable JSON: episodes named by site, slug, season and number (not database ids)."""
    items = DownloadItem.objects.select_related("episode__season__series").order_by("priority", "position", "id")
    if not include_finished:
        items = items.exclude(state=ItemState.COMPLETED).exclude(state=ItemState.CANCELLED)
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "queue_state": queue_state(),
        "items": [
            {
                "site": item.episode.season.series.site,
                "slug": item.episode.season.series.slug,
                "season": item.episode.season.number,
                "episode": item.episode.number,
                "label": item.label,
                "language": item.language,
                "priority": Priority(item.priority).api_name,
                "position": item.position,
                "state": item.state,
                "attempts": item.attempts,
                "last_error": item.last_error,
                "created_at": item.created_at.isoformat(),
                "finished_at": item.finished_at.isoformat() if item.finished_at else None,
            }
            for item in items
        ],
    }
