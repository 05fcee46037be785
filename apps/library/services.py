"""Writes to the library. The queue calls the episode functions at the top of this module.

Queue contract (stable):

- :func:`episode_target_path` — where a finished download goes (absolute, inside the library).
- :func:`set_episode_state` — ``queued`` / ``downloading`` / ``missing`` / ``ignored`` while the queue works.
- :func:`mark_episode_present` — after the file was renamed into place.
- :func:`restore_episode_state` — after a cancelled or failed download: back to ``present`` if a file
  is still there (an upgrade that failed), else ``missing``.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from django.db import transaction

from apps.catalog.types import Language
from apps.configuration.selectors import library_root
from apps.library import naming, selectors
from apps.library.models import Episode, EpisodeState, UnmatchedFile


def _episode_with_series(episode_id: int) -> Episode:
    return Episode.objects.select_related("season__series").get(pk=episode_id)


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
    """Record the episode's file (path relative to the library root, or absolute inside it)."""
    stored_path = to_library_relative(relative_path)
    if size < 0:
        raise ValueError("A file size cannot be negative.")
    file_language = Language(language).value if language else None
    with transaction.atomic():
        episode = Episode.objects.select_for_update().get(pk=episode_id)
        episode.file_path = stored_path
        episode.file_size = size
        episode.file_language = file_language
        episode.state = EpisodeState.PRESENT
        episode.save(update_fields=["file_path", "file_size", "file_language", "state", "updated_at"])
        UnmatchedFile.objects.filter(path=stored_path).delete()
    return episode


def restore_episode_state(episode_id: int) -> Episode:
    """After a failed or cancelled download: ``present`` if its file still exists, else ``missing``."""
    with transaction.atomic():
        episode = Episode.objects.select_for_update().get(pk=episode_id)
        if episode.state == EpisodeState.IGNORED:
            return episode
        has_file = bool(episode.file_path) and (library_root() / episode.file_path).is_file()
        if not has_file:
            episode.file_path, episode.file_size, episode.file_language = "", None, None
        episode.state = EpisodeState.PRESENT if has_file else EpisodeState.MISSING
        episode.save(update_fields=["file_path", "file_size", "file_language", "state", "updated_at"])
    return episode
