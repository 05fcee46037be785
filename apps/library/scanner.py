"""The library scanner: which episode files are on disk, and which files it cannot place.

Layout it expects: ``<library>/<series folder>/[<season folder>/…]<episode file>``.
Top-level folders are matched to series by their stored folder, then by the
normalised title (or an alternative title) and year. Episode files are
recognised by the naming template and by common patterns (``S01E02``,
``1x02``, ``Episode 2``, ``- 02 -``, ``Film 1``).

Incremental: every directory's mtime is stored. A directory whose mtime is
unchanged has the same entries as last time, so it is only ``stat``-ed and its
known subdirectories are visited; only changed directories are listed. (A file
rewritten in place does not change its directory's mtime; ``full=True``
re-lists everything.) The library root itself is always listed, so new or
renamed series are matched again on every scan.

Safety: ``.incoming/`` (downloads in progress), hidden folders, NAS metadata
folders and partial files are ignored; symlinks are followed only when they
resolve inside the library root, and never twice to the same directory;
unreadable folders are reported and their previous results kept.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import string
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from apps.catalog.types import Language
from apps.library import naming
from apps.library.models import Episode, EpisodeState, ScannedDirectory, Season, Series, UnmatchedFile

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[dict], None]

VIDEO_EXTENSIONS = frozenset(
    {".mkv", ".mp4", ".m4v", ".avi", ".webm", ".mov", ".ts", ".m2ts", ".wmv", ".flv", ".mpg", ".mpeg", ".ogm"}
)
PARTIAL_SUFFIXES = frozenset({".part", ".partial", ".tmp", ".crdownload", ".!qb", ".aria2", ".ytdl", ".download"})
IGNORED_DIRECTORIES = frozenset(
    {"@eadir", "#recycle", "#snapshot", "$recycle.bin", "system volume information", "lost+found", "@recycle"}
)
PROGRESS_INTERVAL_SECONDS = 0.5
EPISODE_INSERT_BATCH = 5000
# Directories modified this recently may still change within the file system's mtime granularity
# (SMB/FAT: 2 s); they are stored with an impossible mtime so the next scan lists them again.
MTIME_SETTLE_NANOSECONDS = 3_000_000_000

_YEAR_SUFFIX = re.compile(r"^(?P<title>.*?)[\s._-]*[\(\[](?P<year>(?:19|20|21)\d{2})[\)\]]\s*$")
_SEASON_DIRECTORY = re.compile(r"^(?:season|staffel|series|s)[\s._-]*(?P<number>\d{1,3})$", re.IGNORECASE)
_SPECIALS_DIRECTORY = re.compile(r"^(?:specials?|films?|filme|movies?|ovas?)$", re.IGNORECASE)
_EPISODE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("SxxEyy", re.compile(r"(?<![a-z0-9])s(?P<season>\d{1,3})[\s._-]*e(?P<episode>\d{1,4})(?!\d)", re.IGNORECASE)),
    ("NxM", re.compile(r"(?<![a-z0-9])(?P<season>\d{1,2})x(?P<episode>\d{1,4})(?![a-z0-9])", re.IGNORECASE)),
    (
        "film",
        re.compile(r"(?<![a-z0-9])(?:film|movie|ova|special)[\s._-]*(?P<film>\d{1,3})(?!\d)", re.IGNORECASE),
    ),
    (
        "episode",
        re.compile(r"(?<![a-z0-9])(?:episode|folge|ep|e)[\s._-]*(?P<episode>\d{1,4})(?!\d)", re.IGNORECASE),
    ),
    ("dash", re.compile(r"\s-\s(?P<episode>\d{1,4})(?:v\d)?(?:\s*-\s|\s*[\[(]|\s*$)")),
)
_LANGUAGE_TAGS: tuple[tuple[re.Pattern[str], Language], ...] = (
    (re.compile(r"(?<![a-z])(?:ger(?:man)?|deutsch|de)[\s._-]*sub", re.IGNORECASE), Language.GERMAN_SUB),
    (re.compile(r"(?<![a-z])(?:eng(?:lish)?|en)[\s._-]*sub", re.IGNORECASE), Language.ENGLISH_SUB),
    (re.compile(r"(?<![a-z])(?:ger(?:man)?|deutsch|de)[\s._-]*dub", re.IGNORECASE), Language.GERMAN_DUB),
    (re.compile(r"(?<![a-z])(?:eng(?:lish)?|en)[\s._-]*dub", re.IGNORECASE), Language.ENGLISH_DUB),
)


def normalise_title(text: str) -> str:
    """Title folded for matching: accents, case, punctuation and ``&``/``and`` differences removed."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char)).casefold()
    text = text.replace("&", " and ")
    text = re.sub(r"[^\w]+", " ", text)
    return " ".join(text.split())


def split_folder_name(name: str) -> tuple[str, int | None]:
    """``"Attack on Titan (2013)"`` → ``("Attack on Titan", 2013)``."""
    found = _YEAR_SUFFIX.match(name)
    if found and found["title"].strip():
        return found["title"].strip(), int(found["year"])
    return name.strip(), None


def parse_folder_name(name: str) -> tuple[str, int | None]:
    """``"Attack on Titan (2013)"`` → ``("attack on titan", 2013)``."""
    title, year = split_folder_name(name)
    return normalise_title(title), year


def season_from_directory(name: str) -> int | None:
    if _SPECIALS_DIRECTORY.match(name.strip()):
        return 0
    found = _SEASON_DIRECTORY.match(name.strip())
    return int(found["number"]) if found else None


def template_pattern(template: str) -> re.Pattern[str] | None:
    r"""A regex for the numbers in file names made by the template's last part, e.g. ``S(\d+)E(\d+)``.

    It spans from the literal text before the first number to the last number;
    None when the template has no literal text before its first number (a bare
    number would match any digits, like a year).
    """
    try:
        naming.validate_template(template)
    except naming.TemplateError:
        return None
    pieces = list(string.Formatter().parse(template.split("/")[-1]))
    numeric = [index for index, piece in enumerate(pieces) if piece[1] in {"season", "episode"}]
    if not numeric or not pieces[numeric[0]][0]:
        return None
    pattern, seen = "", set()
    for literal, field_name, _spec, _conversion in pieces[numeric[0] : numeric[-1] + 1]:
        pattern += re.escape(literal)
        if field_name in {"season", "episode"} and field_name not in seen:
            pattern += rf"(?P<{field_name}>\d+)"
            seen.add(field_name)
        elif field_name is not None:
            pattern += r".*?"
    return re.compile(pattern + r"(?!\d)", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedEpisode:
    season: int
    number: int
    how: str


def parse_episode_file(
    stem: str, season_hint: int | None, template_regex: re.Pattern[str] | None = None
) -> ParsedEpisode | None:
    """Season and episode number from a file name without extension; None when it cannot tell."""
    if template_regex is not None:
        found = template_regex.search(stem)
        if found and found.groupdict().get("episode"):
            season = found.groupdict().get("season")
            season_number = int(season) if season is not None else (season_hint if season_hint is not None else 1)
            return ParsedEpisode(season_number, int(found["episode"]), "template")
    for how, pattern in _EPISODE_PATTERNS:
        found = pattern.search(stem)
        if not found:
            continue
        groups = found.groupdict()
        if groups.get("film"):
            return ParsedEpisode(0, int(groups["film"]), how)
        season = groups.get("season")
        season_number = int(season) if season is not None else (season_hint if season_hint is not None else 1)
        return ParsedEpisode(season_number, int(groups["episode"]), how)
    return None


def guess_language(stem: str) -> Language | None:
    """A language tag in a file name (``GerSub``, ``German Dub``, ``[EngSub]``…), if there is one."""
    lowered = stem.casefold()
    if "sub" not in lowered and "dub" not in lowered:  # every tag and label below names one of them
        return None
    for pattern, language in _LANGUAGE_TAGS:
        if pattern.search(stem):
            return language
    for language in Language:
        if language.label.casefold() in stem.casefold():
            return language
    return None


class SeriesMatcher:
    """Which series a top-level folder belongs to."""

    def __init__(self, series_rows: list[dict]):
        self.rows = {row["id"]: row for row in series_rows}
        self.by_folder = {row["folder"]: row["id"] for row in series_rows if row["folder"]}
        self.by_folder_folded = {folder.casefold(): series_id for folder, series_id in self.by_folder.items()}
        self.by_name: dict[str, set[int]] = {}
        for row in series_rows:
            for title in [row["title"], *(row["alternative_titles"] or [])]:
                if isinstance(title, str) and title.strip():
                    self.by_name.setdefault(normalise_title(title), set()).add(row["id"])

    def match(self, folder_names: list[str]) -> dict[str, int]:
        """Folder name → series id, for every folder that can be matched unambiguously."""
        matched: dict[str, int] = {}
        present = set(folder_names)
        for name in folder_names:
            series_id = self.by_folder.get(name) or self.by_folder_folded.get(name.casefold())
            if series_id:
                matched[name] = series_id
        claimed = set(matched.values())
        for name in folder_names:
            if name in matched:
                continue
            title, year = parse_folder_name(name)
            candidates = [
                series_id
                for series_id in self.by_name.get(title, ())
                if series_id not in claimed
                and (not self.rows[series_id]["folder"] or self.rows[series_id]["folder"] not in present)
                and (year is None or self.rows[series_id]["year"] in (None, year))
            ]
            if len(candidates) == 1:
                matched[name] = candidates[0]
                claimed.add(candidates[0])
        return matched


@dataclass(slots=True)
class _EpisodeRow:
    id: int | None
    season: int
    number: int
    file_path: str
    file_size: int | None
    file_language: str | None
    state: str


@dataclass
class ScanReport:
    directories_visited: int = 0
    directories_listed: int = 0
    files_seen: int = 0
    episodes_found: int = 0
    episodes_created: int = 0
    episodes_lost: int = 0
    unmatched_files: int = 0
    series_matched: int = 0
    seconds: float = 0.0
    problems: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "directories_visited": self.directories_visited,
            "directories_listed": self.directories_listed,
            "files_seen": self.files_seen,
            "episodes_found": self.episodes_found,
            "episodes_created": self.episodes_created,
            "episodes_lost": self.episodes_lost,
            "unmatched_files": self.unmatched_files,
            "series_matched": self.series_matched,
            "seconds": round(self.seconds, 3),
            "problems": len(self.problems),
        }


def _is_ignored_directory(name: str) -> bool:
    return name.startswith(".") or name.casefold() in IGNORED_DIRECTORIES


def _is_episode_candidate(name: str) -> bool:
    if name.startswith("."):
        return False
    lowered = name.casefold()
    dot = lowered.rfind(".")
    # A partial download ends in one of PARTIAL_SUFFIXES, which is never a video extension.
    return dot > 0 and lowered[dot:] in VIDEO_EXTENSIONS


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


class LibraryScanner:
    def __init__(
        self,
        root: Path,
        *,
        full: bool = False,
        progress: ProgressCallback | None = None,
        template: str = naming.DEFAULT_TEMPLATE,
    ):
        self.root = Path(root)
        self.root_real = os.path.realpath(self.root)
        self.full = full
        self.progress = progress
        self.template_regex = template_pattern(template)
        self.report = ScanReport()
        self._last_progress = 0.0
        self._now_ns = time.time_ns()
        self._visited_real: set[str] = set()
        self._stored_dirs: dict[str, tuple[int, int | None]] = {}
        self._children: dict[str, list[str]] = {}
        self._dir_updates: dict[str, tuple[int, int | None]] = {}
        self._files_by_dir: dict[str, dict[str, int]] | None = None
        self._unmatched_by_dir: dict[str, set[str]] | None = None
        self._series_cache: dict[int, tuple[dict[int, int], dict[tuple[int, int], _EpisodeRow]]] = {}
        self._rows_by_id: dict[int, _EpisodeRow] = {}
        self._pending_episodes: list[tuple[int, _EpisodeRow]] = []  # (series id, row): inserted in batches
        self._all_series_loaded = False

    # --- loading -------------------------------------------------------------------------
    def _load_directories(self) -> None:
        for path, mtime_ns, series_id in ScannedDirectory.objects.values_list("path", "mtime_ns", "series_id"):
            self._stored_dirs[path] = (mtime_ns, series_id)
            if path:
                self._children.setdefault(os.path.dirname(path), []).append(path)

    def _files_index(self) -> dict[str, dict[str, int]]:
        """Episode files stored last time, by directory (loaded only when a directory changed)."""
        if self._files_by_dir is None:
            self._files_by_dir = {}
            for episode_id, file_path in Episode.objects.exclude(file_path="").values_list("id", "file_path"):
                directory, _, name = file_path.rpartition("/")
                self._files_by_dir.setdefault(directory, {})[name] = episode_id
        return self._files_by_dir

    def _unmatched_index(self) -> dict[str, set[str]]:
        if self._unmatched_by_dir is None:
            self._unmatched_by_dir = {}
            for path in UnmatchedFile.objects.values_list("path", flat=True):
                directory, _, name = path.rpartition("/")
                self._unmatched_by_dir.setdefault(directory, set()).add(name)
        return self._unmatched_by_dir

    def _series_episodes(self, series_id: int) -> tuple[dict[int, int], dict[tuple[int, int], _EpisodeRow]]:
        if series_id not in self._series_cache:
            if self._all_series_loaded:
                self._series_cache[series_id] = ({}, {})  # nothing stored for it
            else:
                # A first or full scan lists every folder: one query for all series beats one per series.
                everything = self.full or not self._stored_dirs
                self._load_episodes(None if everything else series_id)
                self._all_series_loaded = everything
                self._series_cache.setdefault(series_id, ({}, {}))
        return self._series_cache[series_id]

    def _load_episodes(self, series_id: int | None) -> None:
        """Seasons and episodes of one series (or of all) into the cache."""
        seasons = Season.objects.all() if series_id is None else Season.objects.filter(series_id=series_id)
        for season_series, number, season_id in seasons.values_list("series_id", "number", "id"):
            self._series_cache.setdefault(season_series, ({}, {}))[0][number] = season_id
        episodes = Episode.objects.all() if series_id is None else Episode.objects.filter(season__series_id=series_id)
        files_by_dir: dict[str, dict[str, int]] | None = {} if series_id is None else None
        for row in episodes.values_list(
            "id", "season__series_id", "season__number", "number", "file_path", "file_size", "file_language", "state"
        ).iterator(chunk_size=5000):
            episode = _EpisodeRow(row[0], row[2], row[3], row[4], row[5], row[6], row[7])
            self._series_cache.setdefault(row[1], ({}, {}))[1][(episode.season, episode.number)] = episode
            self._rows_by_id[episode.id] = episode
            if files_by_dir is not None and episode.file_path:
                directory, _, name = episode.file_path.rpartition("/")
                files_by_dir.setdefault(directory, {})[name] = episode.id
        if files_by_dir is not None and self._files_by_dir is None:
            self._files_by_dir = files_by_dir  # the same rows _files_index would read

    # --- reporting -----------------------------------------------------------------------
    def _problem(self, path: str, kind: str, message: str) -> None:
        logger.warning("library scan: %s: %s", path or "/", message)
        self.report.problems.append({"path": path, "kind": kind, "message": message})

    def _emit(self, phase: str, current: str = "", *, force: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if not force and now - self._last_progress < PROGRESS_INTERVAL_SECONDS:
            return
        self._last_progress = now
        try:
            self.progress({"phase": phase, "current": current, **self.report.as_dict()})
        except Exception:  # a broken progress listener must never stop a scan
            logger.exception("library scan: progress callback failed")

    # --- walking -------------------------------------------------------------------------
    def run(self) -> ScanReport:
        started = time.monotonic()
        self._emit("starting", force=True)
        self._load_directories()
        series_rows = list(Series.objects.values("id", "folder", "title", "year", "alternative_titles"))
        matcher = SeriesMatcher(series_rows)
        self._visited_real.add(self.root_real)
        try:
            root_stat = os.stat(self.root)
            entries = self._list(str(self.root), "")
        except OSError as exc:
            self._problem("", "unreadable", f"cannot read the library folder: {exc.strerror or exc}")
            self.report.seconds = time.monotonic() - started
            return self.report
        self.report.directories_visited += 1
        if entries is None:
            self.report.seconds = time.monotonic() - started
            return self.report
        files, subdirs = entries
        matched = matcher.match([name for name, _path in subdirs])
        self.report.series_matched = len(matched)
        self._adopt_folders(matched, {row["id"]: row["folder"] for row in series_rows})
        self._process_files("", files, None, None)
        self._remember_directory("", root_stat.st_mtime_ns, None)
        # Series folders first: a folder reachable both directly and through a symlink from a series
        # folder is placed in the series.
        for name, path in sorted(subdirs, key=lambda item: (item[0] not in matched, item[0])):
            series_id = matched.get(name)
            forced = self._stored_dirs.get(name, (None, None))[1] != series_id
            hint = season_from_directory(name) if series_id is None else None
            self._walk(name, path, self.root_real, series_id, hint, forced)
        self._forget_vanished("", {name for name, _path in subdirs})
        self._insert_pending_episodes()
        self._save_directories()
        self.report.unmatched_files = UnmatchedFile.objects.count()
        self.report.seconds = time.monotonic() - started
        self._emit("finished", force=True)
        return self.report

    def _adopt_folders(self, matched: dict[str, int], stored_folders: dict[int, str]) -> None:
        """A series matched by name keeps that folder from now on (its downloads go there)."""
        for folder, series_id in matched.items():
            if stored_folders.get(series_id) != folder:
                Series.objects.filter(pk=series_id).update(folder=folder, updated_at=timezone.now())

    def _list(self, path: str, relative: str) -> tuple[list[tuple[str, int]], list[tuple[str, str]]] | None:
        """(video files with sizes, subdirectories) of one directory; None if it cannot be read."""
        files: list[tuple[str, int]] = []
        subdirs: list[tuple[str, str]] = []
        try:
            with os.scandir(path) as iterator:
                for entry in iterator:
                    name = entry.name
                    try:
                        if entry.is_symlink():
                            target = self._inside_target(entry.path, _join(relative, name))
                            if target is None:
                                continue
                            if os.path.isdir(target):
                                if not _is_ignored_directory(name):
                                    subdirs.append((name, entry.path))
                            elif os.path.isfile(target) and _is_episode_candidate(name):
                                files.append((name, os.stat(target).st_size))
                        elif entry.is_dir(follow_symlinks=False):
                            if not _is_ignored_directory(name):
                                subdirs.append((name, entry.path))
                        elif entry.is_file(follow_symlinks=False) and _is_episode_candidate(name):
                            files.append((name, entry.stat(follow_symlinks=False).st_size))
                    except OSError as exc:
                        self._problem(_join(relative, name), "unreadable", f"cannot read: {exc.strerror or exc}")
        except OSError as exc:
            self._problem(relative, "unreadable", f"cannot list this folder: {exc.strerror or exc}")
            return None
        self.report.directories_listed += 1
        self.report.files_seen += len(files)
        return files, subdirs

    def _inside_target(self, link_path: str, relative: str) -> str | None:
        target = os.path.realpath(link_path)
        if target != self.root_real and not target.startswith(self.root_real + os.sep):
            self._problem(relative, "symlink_outside", f"symlink points outside the library ({target}); not followed")
            return None
        if not os.path.exists(target):
            self._problem(relative, "broken_symlink", "symlink target does not exist")
            return None
        return target

    def _walk(
        self,
        relative: str,
        path: str,
        parent_real: str,
        series_id: int | None,
        season_hint: int | None,
        forced: bool,
    ) -> None:
        # One lstat per folder: only symlinks need the (costlier) realpath and a second stat.
        try:
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                real = self._inside_target(path, relative)
                if real is None:
                    return
                info = os.stat(path)
            else:
                real = os.path.join(parent_real, path.rpartition(os.sep)[2])
        except OSError as exc:
            self._problem(relative, "unreadable", f"cannot read this folder: {exc.strerror or exc}")
            return
        if real in self._visited_real:
            self._problem(relative, "symlink_loop", "this folder was already scanned through another path; skipped")
            return
        self._visited_real.add(real)
        mtime_ns = info.st_mtime_ns
        self.report.directories_visited += 1
        self._emit("scanning", relative)
        stored = self._stored_dirs.get(relative)
        if not forced and not self.full and stored is not None and stored == (mtime_ns, series_id):
            for child in self._children.get(relative, ()):
                name = child.rpartition("/")[2]
                hint = season_from_directory(name)
                self._walk(
                    child, os.path.join(path, name), real, series_id, season_hint if hint is None else hint, False
                )
            return
        entries = self._list(path, relative)
        if entries is None:
            return
        files, subdirs = entries
        self._process_files(relative, files, series_id, season_hint)
        self._remember_directory(relative, mtime_ns, series_id)
        for name, sub_path in subdirs:
            hint = season_from_directory(name)
            self._walk(
                _join(relative, name),
                sub_path,
                real,
                series_id,
                season_hint if hint is None else hint,
                forced or self.full,
            )
        # After the walk: files moved into a renamed folder are already placed and are not "lost".
        self._forget_vanished(relative, {name for name, _path in subdirs})

    def _remember_directory(self, relative: str, mtime_ns: int, series_id: int | None) -> None:
        settled = self._now_ns - mtime_ns > MTIME_SETTLE_NANOSECONDS
        self._dir_updates[relative] = (mtime_ns if settled else -1, series_id)

    def _forget_vanished(self, relative: str, present_names: set[str]) -> None:
        """Subdirectories stored last time that are gone now: forget them and what was in them."""
        for child in self._children.get(relative, ()):
            if child.rpartition("/")[2] in present_names:
                continue
            self._insert_pending_episodes()
            prefix = child + "/"
            with transaction.atomic():
                ScannedDirectory.objects.filter(path=child).delete()
                ScannedDirectory.objects.filter(path__startswith=prefix).delete()
                UnmatchedFile.objects.filter(path__startswith=prefix).delete()
                lost = Episode.objects.filter(file_path__startswith=prefix)
                self.report.episodes_lost += lost.filter(state=EpisodeState.PRESENT).count()
                lost.filter(state=EpisodeState.PRESENT).update(
                    state=EpisodeState.MISSING, file_path="", file_size=None, file_language=None
                )
                lost.update(file_path="", file_size=None, file_language=None)
            self._series_cache.clear()
            self._all_series_loaded = False
            self._rows_by_id.clear()
            self._files_by_dir = None

    # --- placing files ---------------------------------------------------------------------
    def _process_files(
        self, relative: str, files: list[tuple[str, int]], series_id: int | None, season_hint: int | None
    ) -> None:
        # Episode files never live in the library root itself: no need to load the index for it.
        if series_id is not None:  # first: loading every series also builds the files index
            _seasons, episodes = self._series_episodes(series_id)
        known = self._files_index().get(relative, {}) if relative else {}
        previously_unmatched = self._unmatched_index().get(relative, set())
        unmatched: list[UnmatchedFile] = []
        to_create: list[_EpisodeRow] = []
        to_update: dict[int, _EpisodeRow] = {}
        placed: dict[str, _EpisodeRow] = {}
        for name, size in sorted(files):
            file_path = _join(relative, name)
            if series_id is None:
                reason = (
                    "file is directly in the library folder, not in a series folder"
                    if not relative
                    else "folder does not match any series in the library"
                )
                unmatched.append(UnmatchedFile(path=file_path, size=size, reason=reason))
                continue
            known_row = self._rows_by_id.get(known[name]) if name in known else None
            if (
                known_row is not None
                and known_row.file_path == file_path
                and known_row.file_size == size
                and known_row.state != EpisodeState.MISSING
            ):
                placed[name] = known_row  # unchanged since the last scan: no need to parse its name again
                continue
            stem = os.path.splitext(name)[0]
            parsed = parse_episode_file(stem, season_hint, self.template_regex)
            if parsed is None:
                reason = "cannot recognise a season and episode number in the file name"
                unmatched.append(UnmatchedFile(path=file_path, size=size, reason=reason))
                continue
            key = (parsed.season, parsed.number)
            row = episodes.get(key)
            if row is None:
                row = _EpisodeRow(None, parsed.season, parsed.number, "", None, None, EpisodeState.MISSING)
                episodes[key] = row
                to_create.append(row)
            if row.file_path and row.file_path != file_path and self._still_exists(row.file_path, relative, files):
                reason = f"another file is already S{parsed.season:02}E{parsed.number:02}: {row.file_path}"
                unmatched.append(UnmatchedFile(path=file_path, size=size, reason=reason[:300]))
                continue
            placed[name] = row
            if row.file_path == file_path and row.file_size == size and row.state != EpisodeState.MISSING:
                continue
            if row.file_path != file_path:
                row.file_language = guess_language(stem)
                self.report.episodes_found += 1
            row.file_path, row.file_size = file_path, size
            if row.state == EpisodeState.MISSING:
                row.state = EpisodeState.PRESENT
            if row.id is not None:
                to_update[row.id] = row

        for name, episode_id in known.items():
            if name in placed and placed[name].id == episode_id:
                continue
            row = self._row_by_id(episode_id)
            if row is not None and row.file_path == _join(relative, name):
                row.file_path, row.file_size, row.file_language = "", None, None
                if row.state == EpisodeState.PRESENT:
                    row.state = EpisodeState.MISSING
                    self.report.episodes_lost += 1
                to_update[episode_id] = row

        flagged = {item.path.rpartition("/")[2] for item in unmatched}
        gone = [_join(relative, name) for name in previously_unmatched - flagged]
        if to_create:
            self._create_episodes(series_id, to_create)
        if not (to_update or unmatched or gone):
            self._unmatched_index()[relative] = flagged
            return
        with transaction.atomic():
            if to_update:
                # A file can move from one episode's row to another's in one pass: release the paths first, or
                # the unique stored path refuses the row that takes a path before the row that gives it up.
                Episode.objects.filter(pk__in=list(to_update)).exclude(file_path="").update(
                    file_path="", state=EpisodeState.MISSING
                )
            if to_update:
                now = timezone.now()
                Episode.objects.bulk_update(
                    [
                        Episode(
                            id=row.id,
                            file_path=row.file_path,
                            file_size=row.file_size,
                            file_language=row.file_language,
                            state=row.state,
                            updated_at=now,
                        )
                        for row in to_update.values()
                    ],
                    ["file_path", "file_size", "file_language", "state", "updated_at"],
                    batch_size=500,
                )
            if gone:
                UnmatchedFile.objects.filter(path__in=gone).delete()
            if unmatched:
                UnmatchedFile.objects.bulk_create(
                    unmatched,
                    update_conflicts=True,
                    unique_fields=["path"],
                    update_fields=["size", "reason", "last_seen"],
                    batch_size=500,
                )
        index = self._files_index()
        for row in to_update.values():
            directory, _, name = row.file_path.rpartition("/")
            if row.file_path:
                index.setdefault(directory, {})[name] = row.id
        self._unmatched_index()[relative] = flagged

    def _still_exists(self, stored_path: str, relative: str, files: list[tuple[str, int]]) -> bool:
        directory, _, name = stored_path.rpartition("/")
        if directory == relative:
            return any(file_name == name for file_name, _size in files)
        return os.path.isfile(os.path.join(self.root, stored_path))

    def _row_by_id(self, episode_id: int) -> _EpisodeRow | None:
        if episode_id in self._rows_by_id:
            return self._rows_by_id[episode_id]
        row = (
            Episode.objects.filter(pk=episode_id)
            .values(
                "id",
                "season__number",
                "number",
                "file_path",
                "file_size",
                "file_language",
                "state",
                "season__series_id",
            )
            .first()
        )
        if row is None:
            return None
        _seasons, episodes = self._series_episodes(row["season__series_id"])
        return episodes.get((row["season__number"], row["number"]))

    def _create_episodes(self, series_id: int, rows: list[_EpisodeRow]) -> None:
        self._pending_episodes += [(series_id, row) for row in rows]
        self.report.episodes_created += len(rows)
        if len(self._pending_episodes) >= EPISODE_INSERT_BATCH:
            self._insert_pending_episodes()

    def _season_ids(self, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
        """(series id, season number) → season id, creating the seasons that do not exist yet."""
        known = {(series_id, number): self._series_episodes(series_id)[0].get(number) for series_id, number in wanted}
        missing = [key for key, season_id in known.items() if season_id is None]
        if missing:
            Season.objects.bulk_create(
                [Season(series_id=series_id, number=number) for series_id, number in missing],
                ignore_conflicts=True,
                batch_size=500,
            )
            series_ids = sorted({series_id for series_id, _number in missing})
            for start in range(0, len(series_ids), 500):
                for series_id, number, season_id in Season.objects.filter(
                    series_id__in=series_ids[start : start + 500]
                ).values_list("series_id", "number", "id"):
                    self._series_episodes(series_id)[0][number] = season_id
                    if (series_id, number) in known:
                        known[series_id, number] = season_id
        return known

    def _insert_pending_episodes(self) -> None:
        """Insert the episodes found so far in one statement run many times, then learn their ids.

        ``bulk_create`` spent most of a first scan building SQL for each object; the values here are
        prepared once per column where they are the same for every row.
        """
        if not self._pending_episodes:
            return
        with transaction.atomic():
            pending_rows, self._pending_episodes = self._pending_episodes, []
            season_ids = self._season_ids({(series_id, row.season) for series_id, row in pending_rows})
            self._insert_episodes([(season_ids[series_id, row.season], row) for series_id, row in pending_rows])

    def _insert_episodes(self, pending: list[tuple[int, _EpisodeRow]]) -> None:
        meta = Episode._meta
        now = timezone.now()
        same = {
            name: meta.get_field(name).get_db_prep_save(value, connection)
            for name, value in (("title_de", ""), ("title_en", ""), ("languages_available", []))
        }
        created_at = meta.get_field("created_at").get_db_prep_save(now, connection)
        columns = [
            "season_id", "number", "title_de", "title_en", "languages_available",
            "file_path", "file_size", "file_language", "state", "created_at", "updated_at",
        ]  # fmt: skip
        sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608  (quoted names from the model)
            connection.ops.quote_name(meta.db_table),
            ", ".join(connection.ops.quote_name(meta.get_field(column).column) for column in columns),
            ", ".join(["%s"] * len(columns)),
        )
        values = [
            (
                season_id, row.number, same["title_de"], same["title_en"], same["languages_available"],
                row.file_path, row.file_size, row.file_language, row.state, created_at, created_at,
            )
            for season_id, row in pending
        ]  # fmt: skip
        by_key = {(season_id, row.number): row for season_id, row in pending}
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, values)
            season_ids = sorted({season_id for season_id, _row in pending})
            for start in range(0, len(season_ids), 500):
                chunk = season_ids[start : start + 500]
                for episode_id, season_id, number in Episode.objects.filter(season_id__in=chunk).values_list(
                    "id", "season_id", "number"
                ):
                    row = by_key.get((season_id, number))
                    if row is not None:
                        row.id = episode_id
                        self._rows_by_id[episode_id] = row
        if self._files_by_dir is not None:
            for _season_id, row in pending:
                if row.file_path:
                    directory, _, name = row.file_path.rpartition("/")
                    self._files_by_dir.setdefault(directory, {})[name] = row.id

    def _save_directories(self) -> None:
        if not self._dir_updates:
            return
        changed = [
            (path, mtime_ns, series_id)
            for path, (mtime_ns, series_id) in self._dir_updates.items()
            if self._stored_dirs.get(path) != (mtime_ns, series_id)
        ]
        if not changed:
            return
        # One upsert statement run many times (SQLite and PostgreSQL share this syntax); bulk_create
        # built the SQL for every object.
        quote = connection.ops.quote_name
        meta = ScannedDirectory._meta
        path, mtime, series = (quote(meta.get_field(name).column) for name in ("path", "mtime_ns", "series"))
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({path}, {mtime}, {series}) VALUES (%s, %s, %s) "  # noqa: S608
            f"ON CONFLICT ({path}) DO UPDATE SET {mtime} = excluded.{mtime}, {series} = excluded.{series}"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, changed)
