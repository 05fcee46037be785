"""Writes to the library. The queue calls the episode functions at the top of this module.

Queue contract (stable):

- :func:`episode_target_path` — where a finished download goes (absolute, inside the library).
- :func:`claim_target` — before the download and again before the final move: refuses (:class:`PathTaken`)
  a path that another episode's file holds; says whether an existing file there may be replaced.
- :func:`set_episode_state` — ``queued`` / ``downloading`` / ``missing`` / ``ignored`` while the queue works.
- :func:`mark_episode_present` — after the file was renamed into place.
- :func:`restore_episode_state` — after a cancelled or failed download: back to ``present`` if a file
  is still there (an upgrade that failed), else ``missing``.
"""

from __future__ import annotations

import logging
import os
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from aniworld_site.locks import LockHeld, cluster_lock, is_locked
from aniworld_site.tasks import LIBRARY_SCAN, send_on_commit
from apps.catalog import services as catalog
from apps.catalog.types import CatalogError, EpisodeInfo, Language, SeriesDetails, Site
from apps.configuration.selectors import library_root
from apps.library import naming, selectors
from apps.library.models import Episode, EpisodeState, ScanRun, Season, Series, UnmatchedFile
from apps.library.scanner import (
    LibraryScanner,
    ProgressCallback,
    SeriesMatcher,
    normalise_title,
    split_folder_name,
)

logger = logging.getLogger(__name__)


class PathTaken(Exception):
    """Another episode's file is at this path: nothing is overwritten (the message says which episode)."""


def _taken_message(relative: str, owner: Episode) -> str:
    return (
        f"'{relative}' is already the file of {owner}; it was not overwritten. Two episodes map to the same "
        "file name: check the naming template (it needs {season} and {episode}) and retry."
    )


def claim_target(episode_id: int, target: str | Path) -> bool:
    """Check ``target`` before a download writes it: raise :class:`PathTaken` if another episode's file is there.

    Returns True when ``target`` is this episode's own recorded file (an upgrade may replace it), False
    otherwise: an existing file there then belongs to nobody we know and must not be replaced either.
    """
    relative = to_library_relative(target)
    owner = Episode.objects.select_related("season__series").filter(file_path=relative).exclude(pk=episode_id).first()
    if owner is not None:
        raise PathTaken(_taken_message(relative, owner))
    return Episode.objects.filter(pk=episode_id, file_path=relative).exists()


def episode_naming_context(episode: Episode, language: Language | str | None = None) -> naming.NamingContext:
    series = episode.season.series
    label = Language(language).label if language else ""
    return naming.NamingContext(
        series_title=series.title,
        year=series.year,
        season=episode.season.number,
        episode=episode.number,
        episode_title_de=episode.title_de,
        episode_title_en=episode.title_en,
        language=label,
        site=series.site,
        slug=series.slug,
    )


def naming_preview(template: str) -> dict[str, Any]:
    """The naming template rendered for one of the owner's own episodes (the built-in sample when the library
    is empty), or the problems that stop it from rendering."""
    episode = (
        Episode.objects.select_related("season__series")
        .filter(season__number__gt=0)
        .order_by("-season__series__created_at", "season__number", "number")
        .first()
    )
    sample = (
        episode_naming_context(episode, selectors.language_preference(episode.season.series)[0]) if episode else None
    )
    try:
        naming.validate_template(template)
        rendered = naming.preview(template, sample)
    except (naming.TemplateError, naming.UnsafePathError) as exc:
        return {
            "ok": False,
            "problems": [str(exc)],
            "preview": None,
            "film_preview": None,
            "sample": _sample_name(episode),
        }
    return {
        "ok": True,
        "problems": [],
        "preview": rendered["episode"],
        "film_preview": rendered["film"],
        "sample": _sample_name(episode),
    }


def _sample_name(episode: Episode | None) -> str:
    return episode.season.series.title if episode else naming.SAMPLE.series_title


def episode_relative_path(episode: Episode, extension: str, language: Language | str | None = None) -> str:
    """The episode's path relative to the library root (``/`` separated), from the naming template."""
    series = episode.season.series
    return naming.render_relative(
        selectors.naming_template(),
        episode_naming_context(episode, language),
        extension,
        series_folder=series.folder or None,
    )


def episode_target_path(episode: Episode, extension: str, language: Language | str | None = None) -> Path:
    """Absolute path where ``episode``'s file belongs (``extension`` like ``"mkv"``).

    Rendered from the naming template (the series keeps its stored folder) and
    checked to stay inside the library root; raises
    :class:`apps.library.naming.UnsafePathError` otherwise. Does not create anything.
    """
    return naming.resolve_inside(library_root(), episode_relative_path(episode, extension, language))


def to_library_relative(path: str | Path) -> str:
    """A path (absolute inside the library, or relative to it) as the ``/`` separated relative form we store."""
    root = library_root().resolve()
    candidate = Path(path)
    if candidate.is_absolute():
        resolved = candidate.resolve()
        if resolved == root or not resolved.is_relative_to(root):
            raise naming.UnsafePathError(f"'{candidate}' is not inside the library folder '{root}'.")
        candidate = resolved.relative_to(root)
    absolute = naming.resolve_inside(root, candidate)
    return PurePosixPath(absolute.relative_to(root)).as_posix()


def set_episode_state(episode_id: int, state: EpisodeState | str) -> Episode:
    """Set an episode's state (queued, downloading, missing, ignored; present only if it has a file).

    File fields stay as they are: a queued upgrade keeps its current file until
    :func:`mark_episode_present` replaces it.
    """
    state = EpisodeState(state)
    with transaction.atomic():
        episode = Episode.objects.select_for_update().get(pk=episode_id)
        if state == EpisodeState.PRESENT and not episode.file_path:
            raise ValueError(f"Episode {episode_id} has no file; use mark_episode_present() to record one.")
        episode.state = state
        episode.save(update_fields=["state", "updated_at"])
    return episode


def mark_episode_present(
    episode_id: int, relative_path: str | Path, size: int, language: Language | str | None
) -> Episode:
    """Record the episode's file (path relative to the library root, or absolute inside it).

    Raises :class:`PathTaken` if another episode already records that file.
    """
    stored_path = to_library_relative(relative_path)
    if size < 0:
        raise ValueError("A file size cannot be negative.")
    file_language = Language(language).value if language else None
    with transaction.atomic():
        episode = Episode.objects.select_for_update().get(pk=episode_id)
        claim_target(episode_id, stored_path)
        episode.file_path = stored_path
        episode.file_size = size
        episode.file_language = file_language
        episode.state = EpisodeState.PRESENT
        episode.save(update_fields=["file_path", "file_size", "file_language", "state", "updated_at"])
        UnmatchedFile.objects.filter(path=stored_path).delete()
    return episode


def remove_replaced_file(relative_path: str, replaced_by: str) -> bool:
    """Delete an episode's earlier file once its new file landed under another name.

    A download names the file after the container that arrived (``.mp4`` where
    the earlier file was ``.mkv``), so an upgrade does not always overwrite the
    file it replaces. Only a path that no episode records any more is deleted.
    """
    if not relative_path or relative_path == replaced_by:
        return False
    if Episode.objects.filter(file_path=relative_path).exists():
        return False
    path = naming.resolve_inside(library_root(), relative_path)
    if not path.is_file():
        return False
    path.unlink()
    return True


def record_episode_languages(episode_id: int, languages: Iterable[Language | str]) -> bool:
    """Store the languages the episode's own page offers (it is the truth; the season table can lag behind).

    Returns whether they changed; "upgradable" and "unavailable" follow from them.
    """
    offered = [Language(language).value for language in dict.fromkeys(languages)]
    with transaction.atomic():
        episode = Episode.objects.select_for_update().get(pk=episode_id)
        if list(episode.languages_available or []) == offered:
            return False
        episode.languages_available = offered
        episode.save(update_fields=["languages_available", "updated_at"])
    return True


def restore_episode_state(episode_id: int, *, unignore: bool = False) -> Episode:
    """After a failed or cancelled download: ``present`` if its file still exists, else ``missing``.

    Ignored episodes stay ignored unless ``unignore`` is set.
    """
    with transaction.atomic():
        episode = Episode.objects.select_for_update().get(pk=episode_id)
        if episode.state == EpisodeState.IGNORED and not unignore:
            return episode
        has_file = bool(episode.file_path) and (library_root() / episode.file_path).is_file()
        if not has_file:
            episode.file_path, episode.file_size, episode.file_language = "", None, None
        episode.state = EpisodeState.PRESENT if has_file else EpisodeState.MISSING
        episode.save(update_fields=["file_path", "file_size", "file_language", "state", "updated_at"])
    return episode


# --- scanning --------------------------------------------------------------------------------
SCAN_LOCK_KEY = "library:scan:lock"
SCAN_LOCK_SECONDS = 15 * 60  # renewed while the scan reports progress; a killed scan frees it after this
_LOCK_RENEW_SECONDS = 30


class ScanAlreadyRunning(Exception):
    """Another scan holds the cluster-wide lock."""


def is_scan_running() -> bool:
    return is_locked(SCAN_LOCK_KEY)


@contextmanager
def scan_lock(owner: str = "") -> Iterator[Callable[[], None]]:
    """Hold the cluster-wide scan lock; yields a function that renews it."""
    try:
        with cluster_lock(SCAN_LOCK_KEY, SCAN_LOCK_SECONDS, owner or "scan") as renew:
            yield renew
    except LockHeld:
        raise ScanAlreadyRunning("A library scan is already running.") from None


MAX_STORED_PROBLEMS = 1000
KEPT_SCAN_RUNS = 50


def scan_library(*, full: bool = False, progress: ProgressCallback | None = None, task_id: str = "") -> ScanRun:
    """Scan the library once (one scan at a time, cluster-wide); raises :class:`ScanAlreadyRunning`.

    ``progress`` receives dicts like ``{"phase": "scanning", "current": "<folder>",
    "directories_visited": …, "files_seen": …}`` a few times a second, then ``{"phase": "finished", …}``.
    """
    with scan_lock(task_id) as renew_lock:
        run = ScanRun.objects.create(task_id=task_id, full=full)
        last_renewal = time.monotonic()

        def on_progress(event: dict) -> None:
            nonlocal last_renewal
            if time.monotonic() - last_renewal > _LOCK_RENEW_SECONDS:
                renew_lock()
                last_renewal = time.monotonic()
            if progress is not None:
                progress({"scan_id": run.pk, **event})

        scanner = LibraryScanner(library_root(), full=full, progress=on_progress, template=selectors.naming_template())
        try:
            report = scanner.run()
        except Exception as exc:
            run.status, run.error, run.finished_at = ScanRun.Status.FAILED, str(exc)[:2000], timezone.now()
            run.problems = scanner.report.problems[:MAX_STORED_PROBLEMS]
            run.save(update_fields=["status", "error", "finished_at", "problems"])
            raise
        run.status, run.finished_at = ScanRun.Status.FINISHED, timezone.now()
        run.stats = report.as_dict()
        run.problems = report.problems[:MAX_STORED_PROBLEMS]
        run.save(update_fields=["status", "finished_at", "stats", "problems"])
    keep = ScanRun.objects.values_list("pk", flat=True)[:KEPT_SCAN_RUNS]
    ScanRun.objects.exclude(pk__in=list(keep)).delete()
    return run


def rescan_library(*, full: bool = False) -> dict[str, Any]:
    """Scan now, in this process (nightly schedule, ``manage.py scan``); skipped if a scan is running."""
    try:
        run = scan_library(full=full)
    except ScanAlreadyRunning:
        return {"status": "skipped", "reason": "another library scan is running"}
    return {"status": run.status, "scan_id": run.pk, **run.stats}


def start_scan(*, full: bool = False) -> str:
    """Queue a scan on the ``maintenance`` Celery queue (after the transaction commits); returns its task id."""
    if is_scan_running():
        raise ScanAlreadyRunning("A library scan is already running.")
    return send_on_commit(LIBRARY_SCAN, kwargs={"full": full})


# --- catalog: refresh and add ------------------------------------------------------------------
CATALOG_REFRESH_MAX_AGE = timedelta(hours=6)
_IMAGE_SIGNATURES = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF8", "gif"))


class SeriesAlreadyExists(Exception):
    def __init__(self, series: Series):
        super().__init__(f"'{series.title}' is already in the library.")
        self.series = series


class UnknownEpisodes(Exception):
    def __init__(self, episode_ids: list[int]):
        super().__init__(f"These episodes do not belong to this series: {episode_ids}")
        self.episode_ids = episode_ids


def clean_text(value: str | None, max_length: int | None = None) -> str:
    """Catalog text made storable: no NUL or other control characters (newlines kept), trimmed."""
    text = "".join(char for char in str(value or "") if char in "\n\t" or unicodedata.category(char) != "Cc").strip()
    return text[:max_length] if max_length else text


def _sane_year(year: int | None) -> int | None:
    return year if isinstance(year, int) and 1900 <= year <= 2200 else None


@dataclass(frozen=True)
class CatalogSnapshot:
    details: SeriesDetails
    episodes: dict[int, list[EpisodeInfo]]


def fetch_catalog_snapshot(site: Site | str, slug: str) -> CatalogSnapshot:
    """Series details and every season's episode list (season 0 when the site has films/specials)."""
    details = catalog.fetch_series(Site(site), slug)
    season_numbers = set(details.seasons) | ({0} if details.has_films else set())
    episodes = {number: catalog.fetch_episodes(Site(site), slug, number) for number in sorted(season_numbers)}
    return CatalogSnapshot(details, episodes)


def _apply_details(series: Series, details: SeriesDetails) -> None:
    series.title = clean_text(details.title, 500) or series.title or details.slug
    series.alternative_titles = [clean_text(title, 500) for title in details.alternative_titles if clean_text(title)]
    series.year = _sane_year(details.year_start) or series.year
    series.description = clean_text(details.description)
    series.genres = [clean_text(genre, 100) for genre in details.genres if clean_text(genre)]
    series.imdb_id = clean_text(details.imdb_id, 32)
    series.external_ids = {
        key: value
        for key, value in {
            "imdb": series.imdb_id or None,
            "fsk": details.fsk,
            "rating": details.rating,
            "year_end": _sane_year(details.year_end),
            "url": details.url,
        }.items()
        if value not in (None, "")
    }
    series.cover_url = clean_text(details.cover_url, 1000)


def _apply_episode_lists(series: Series, episode_lists: dict[int, list[EpisodeInfo]]) -> dict[str, Any]:
    """Create/update seasons and episodes from the catalog; episodes the site dropped are kept."""
    created = updated = 0
    new_ids: list[int] = []
    seasons = {season.number: season for season in series.seasons.all()}
    for number in episode_lists:
        if number not in seasons:
            seasons[number] = Season.objects.create(series=series, number=number)
    existing = {
        (episode.season.number, episode.number): episode
        for episode in Episode.objects.filter(season__series=series).select_related("season")
    }
    new_episodes, changed = [], []
    for season_number, infos in episode_lists.items():
        for info in infos:
            if info.number < 0:
                continue
            fields = {
                "title_de": clean_text(info.title_de, 500),
                "title_en": clean_text(info.title_en, 500),
                "languages_available": [Language(language).value for language in info.languages],
            }
            episode = existing.get((season_number, info.number))
            if episode is None:
                new_episodes.append(Episode(season=seasons[season_number], number=info.number, **fields))
                existing[(season_number, info.number)] = new_episodes[-1]
            elif any(getattr(episode, name) != value for name, value in fields.items()):
                for name, value in fields.items():
                    setattr(episode, name, value)
                changed.append(episode)
    if new_episodes:
        Episode.objects.bulk_create(new_episodes, batch_size=500)
        created = len(new_episodes)
        new_ids = [episode.pk for episode in new_episodes]
    if changed:
        now = timezone.now()
        for episode in changed:
            episode.updated_at = now
        Episode.objects.bulk_update(changed, ["title_de", "title_en", "languages_available", "updated_at"], 500)
        updated = len(changed)
    return {
        "seasons": len(episode_lists),
        "episodes_created": created,
        "episodes_updated": updated,
        "new_episode_ids": new_ids,
    }


def refresh_series(series: Series, *, max_age: timedelta | None = None) -> dict[str, Any]:
    """Refresh metadata and episode lists from the catalog (raises CatalogError subclasses).

    With ``max_age``, a series refreshed more recently than that is left alone
    (the stored episode lists are the cache of the catalog).
    """
    if max_age is not None and series.last_refreshed and timezone.now() - series.last_refreshed < max_age:
        return {"refreshed": False, "reason": "fresh enough", "last_refreshed": series.last_refreshed}
    snapshot = fetch_catalog_snapshot(series.site, series.slug)
    cover_changed = snapshot.details.cover_url and snapshot.details.cover_url != series.cover_url
    with transaction.atomic():
        series = Series.objects.select_for_update().get(pk=series.pk)
        _apply_details(series, snapshot.details)
        series.last_refreshed = timezone.now()
        series.save()
        counts = _apply_episode_lists(series, snapshot.episodes)
    if cover_changed or (series.cover_url and not _cover_exists(series)):
        store_cover(series)
    return {"refreshed": True, **counts, "last_refreshed": series.last_refreshed}


def _unique_folder(name: str, site: str, slug: str) -> str:
    if not Series.objects.filter(folder=name).exists():
        return name
    return naming.with_suffix(name, f"[{site}-{slug}]")


def add_series(site: Site | str, slug: str, *, folder: str | None = None) -> Series:
    """Add a series from the catalog: record, seasons, episodes, its folder and cover.

    Raises :class:`SeriesAlreadyExists`, catalog errors, or
    :class:`apps.library.naming.UnsafePathError` if the folder cannot be made safely.
    """
    site = Site(site)
    existing = Series.objects.filter(site=site, slug=slug).first()
    if existing is not None:
        raise SeriesAlreadyExists(existing)
    snapshot = fetch_catalog_snapshot(site, slug)
    details = snapshot.details
    title = clean_text(details.title, 500) or slug
    year = _sane_year(details.year_start)
    folder = folder or _unique_folder(
        naming.series_folder_name(selectors.naming_template(), title, year, site=site.value, slug=slug),
        site.value,
        slug,
    )
    folder_path = naming.resolve_inside(library_root(), folder)
    try:
        with transaction.atomic():
            series = Series(site=site, slug=slug, folder=folder, monitored=True)
            _apply_details(series, details)
            series.last_refreshed = timezone.now()
            series.save()
            _apply_episode_lists(series, snapshot.episodes)
            folder_path.mkdir(parents=True, exist_ok=True)
    except IntegrityError:
        existing = Series.objects.filter(site=site, slug=slug).first()
        if existing is not None:
            raise SeriesAlreadyExists(existing) from None
        raise
    if series.cover_url:
        store_cover(series)
    return series


def _cover_exists(series: Series) -> bool:
    return bool(series.cover) and (library_root() / series.cover).is_file()


def store_cover(series: Series) -> bool:
    """Download the cover into the series folder as ``poster.<ext>`` (media servers pick it up).

    A cover is a nicety: failures are logged, never raised.
    """
    if not series.cover_url or not series.folder:
        return False
    try:
        data, _content_type = catalog.download_cover(series.cover_url)
    except (CatalogError, OSError) as exc:
        logger.warning("cover of %s not stored: %s", series, exc)
        return False
    extension = next((ext for signature, ext in _IMAGE_SIGNATURES if data.startswith(signature)), None)
    if extension is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        extension = "webp"
    if extension is None:  # the catalog already refused covers over catalog.MAX_COVER_BYTES
        logger.warning("cover of %s not stored: not a JPEG, PNG, GIF or WebP image", series)
        return False
    relative = f"{series.folder}/poster.{extension}"
    try:
        target = naming.resolve_inside(library_root(), relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, target)
    except (OSError, naming.UnsafePathError) as exc:
        logger.warning("cover of %s not stored: %s", series, exc)
        return False
    Series.objects.filter(pk=series.pk).update(cover=relative)
    series.cover = relative
    return True


def cover_file(series: Series) -> Path | None:
    """The stored cover's absolute path, if it exists inside the library."""
    if not series.cover:
        return None
    try:
        path = naming.resolve_inside(library_root(), series.cover)
    except naming.UnsafePathError:
        return None
    return path if path.is_file() else None


def check_for_new_episodes() -> dict[str, Any]:
    """Refresh every monitored series from its site (beat schedule; the task queues what is missing).

    Returns ``{"new_episodes": n, "missing_episode_ids": [new episodes in a wanted language],
    "series": [titles with new episodes], "errors": [...]}``; one failing series does not stop the others.
    """
    new_total, missing_ids, titles, errors = 0, [], [], []
    for series in Series.objects.filter(monitored=True).order_by("title"):
        try:
            result = refresh_series(series)
        except CatalogError as exc:
            logger.warning("new-episode check of %s failed: %s", series, exc)
            errors.append({"series": series.title, "error": str(exc) or type(exc).__name__})
            continue
        new_ids = result["new_episode_ids"]
        if not new_ids:
            continue
        new_total += len(new_ids)
        titles.append(series.title)
        preference = selectors.language_preference(series)
        missing_ids += [
            episode.pk
            for episode in Episode.objects.filter(pk__in=new_ids).select_related("season").order_by("pk")
            if selectors.assess_episode(episode, preference).status == selectors.EpisodeStatus.MISSING
        ]
    return {"new_episodes": new_total, "missing_episode_ids": missing_ids, "series": titles, "errors": errors}


# --- importing an existing library folder ------------------------------------------------------
class ImportRefused(Exception):
    """The folder cannot be imported as given (outside the library, too deep, missing)."""


@dataclass(frozen=True)
class ImportOutcome:
    folder: str
    status: str  # already_in_library | added | would_add | ambiguous | not_found | error
    message: str
    series_id: int | None = None


def _import_candidates(folder: str | Path) -> list[str]:
    root = library_root().resolve()
    given = Path(folder).expanduser()
    path = given if given.is_absolute() else (Path.cwd() / given)
    if not path.exists() and not given.is_absolute():
        path = root / given
    path = path.resolve()
    if not path.is_dir():
        raise ImportRefused(f"'{folder}' is not a folder.")
    if path == root:
        return sorted(
            entry.name
            for entry in os.scandir(root)
            if entry.is_dir(follow_symlinks=False) and not entry.name.startswith(".")
        )
    if path.parent == root:
        return [path.name]
    raise ImportRefused(
        f"'{path}' is not a series folder directly inside the library folder '{root}'. "
        "Move the series folders into the library folder first, then import them (or the whole library)."
    )


def _match_by_alternative_title(results: list, wanted: str, year: int | None) -> list:
    """Search results whose series page lists ``wanted`` as an alternative title (folders often use one)."""
    found = []
    for result in results:
        try:
            details = catalog.fetch_series(result.site, result.slug)
        except CatalogError:
            continue
        titles = {normalise_title(title) for title in (details.title, *details.alternative_titles)}
        if wanted in titles and (year is None or details.year_start in (None, year)):
            found.append(result)
    return found


def import_library_folder(
    folder: str | Path, *, site: Site | str | None = None, dry_run: bool = False
) -> list[ImportOutcome]:
    """Adopt existing series folders: match each to a series in the library, else find it on the catalog.

    ``folder`` is the library root (every series folder in it) or one series folder
    directly inside it. A folder is added only when exactly one search result has
    the same title (and year, when both are known); otherwise the candidates are reported.
    """
    site = Site(site) if site else None
    outcomes = []
    for name in _import_candidates(folder):
        matcher = SeriesMatcher(list(Series.objects.values("id", "folder", "title", "year", "alternative_titles")))
        series_id = matcher.match([name]).get(name)
        if series_id is not None:
            series = Series.objects.get(pk=series_id)
            if not dry_run and series.folder != name:
                Series.objects.filter(pk=series_id).update(folder=name)
            outcomes.append(ImportOutcome(name, "already_in_library", f"is {series}", series_id))
            continue
        title, year = split_folder_name(name)
        try:
            results = catalog.search(title, site)
        except CatalogError as exc:
            outcomes.append(ImportOutcome(name, "error", f"catalog search failed: {exc or 'not available'}"))
            continue
        wanted = normalise_title(title)
        exact = [
            result
            for result in results
            if normalise_title(result.title) == wanted and (year is None or result.year in (None, year))
        ]
        if not exact:
            exact = _match_by_alternative_title(results[:3], wanted, year)
        if len(exact) != 1:
            shown = ", ".join(f"{r.site}:{r.slug} ({r.title}, {r.year or '?'})" for r in (exact or results)[:5])
            status = "ambiguous" if exact else "not_found"
            why = "several series fit" if exact else "no series with this exact title"
            outcomes.append(ImportOutcome(name, status, f"{why}; candidates: {shown or 'none'}"))
            continue
        found = exact[0]
        if dry_run:
            outcomes.append(ImportOutcome(name, "would_add", f"would add {found.site}:{found.slug} ({found.title})"))
            continue
        try:
            series = add_series(found.site, found.slug, folder=name)
        except SeriesAlreadyExists as exc:
            outcomes.append(ImportOutcome(name, "already_in_library", str(exc), exc.series.pk))
        except (CatalogError, naming.UnsafePathError, OSError) as exc:
            outcomes.append(ImportOutcome(name, "error", f"could not add {found.site}:{found.slug}: {exc}"))
        else:
            outcomes.append(ImportOutcome(name, "added", f"added {series.site}:{series.slug} ({series})", series.pk))
    return outcomes


# --- downloads (through the queue) --------------------------------------------------------------
def episodes_to_download(series: Series, episode_ids: list[int] | None, *, all_missing: bool = False) -> list[int]:
    """Validated episode ids: the chosen ones (all must belong to ``series``) or every missing one."""
    if all_missing:
        return list(
            Episode.objects.filter(season__series=series, state=EpisodeState.MISSING)
            .order_by("season__number", "number")
            .values_list("id", flat=True)
        )
    wanted = list(dict.fromkeys(episode_ids or []))
    found = set(Episode.objects.filter(season__series=series, pk__in=wanted).values_list("id", flat=True))
    unknown = [episode_id for episode_id in wanted if episode_id not in found]
    if unknown:
        raise UnknownEpisodes(unknown)
    return wanted


class EpisodeHasNoFile(Exception):
    pass


def delete_episode_file(episode_id: int) -> Episode:
    """Delete the episode's file from the library (the owner asked): a present episode becomes missing.

    Raises :class:`EpisodeHasNoFile` when there is none, :class:`naming.UnsafePathError` for a stored path
    outside the library, OSError when the file cannot be deleted.
    """
    with transaction.atomic():
        episode = Episode.objects.select_for_update().get(pk=episode_id)
        if not episode.file_path:
            raise EpisodeHasNoFile(f"Episode {episode_id} has no file.")
        path = naming.resolve_inside(library_root().resolve(), episode.file_path)
        path.unlink(missing_ok=True)
        episode.file_path, episode.file_size, episode.file_language = "", None, None
        if episode.state == EpisodeState.PRESENT:  # ignored stays ignored; a queued upgrade stays queued
            episode.state = EpisodeState.MISSING
        episode.save(update_fields=["file_path", "file_size", "file_language", "state", "updated_at"])
    logger.info("episode %s: file %s deleted by the owner", episode_id, path)
    return episode


def set_episodes_ignored(episode_ids: list[int], ignored: bool = True) -> int:
    """Mark episodes ignored (never counted missing), or undo it (back to present/missing)."""
    count = 0
    for episode_id in episode_ids:
        if ignored:
            set_episode_state(episode_id, EpisodeState.IGNORED)
        else:
            restore_episode_state(episode_id, unignore=True)
        count += 1
    return count


def get_or_add_series(site: Site | str, slug: str) -> tuple[Series, bool]:
    """The library's series for ``site``/``slug``, added from the catalog when it is not there yet (True)."""
    existing = Series.objects.filter(site=Site(site), slug=slug).first()
    if existing is not None:
        return existing, False
    try:
        return add_series(site, slug), True
    except SeriesAlreadyExists as exc:  # added by someone else a moment ago
        return exc.series, False


class EpisodesNotInLibrary(Exception):
    def __init__(self, season: int, numbers: list[int]):
        listed = ", ".join(str(number) for number in numbers)
        super().__init__(f"season {season} has no episode {listed} (not on the site, or not yet refreshed)")
        self.season = season
        self.numbers = numbers


def episodes_by_numbers(series: Series, season: int | None, numbers: Sequence[int] | None) -> list[Episode]:
    """Episodes of ``series``: every one (no season), a whole season (no numbers), or the numbered ones of a season.

    Raises :class:`EpisodesNotInLibrary` naming the numbers the season does not have.
    """
    episodes = Episode.objects.filter(season__series=series).select_related("season")
    if season is not None:
        episodes = episodes.filter(season__number=season)
    episodes = episodes.order_by("season__number", "number")
    if season is None or numbers is None:
        return list(episodes)
    by_number = {episode.number: episode for episode in episodes.filter(number__in=list(numbers))}
    unknown = [number for number in numbers if number not in by_number]
    if unknown:
        raise EpisodesNotInLibrary(season, unknown)
    return [by_number[number] for number in dict.fromkeys(numbers)]
