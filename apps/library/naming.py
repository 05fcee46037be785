"""File and folder names for the library: a template rendered from sanitised parts.

Catalog titles are untrusted input. Every rendered part is made safe for Linux,
SMB and Windows shares (reserved names, forbidden characters, control
characters, trailing dots/spaces, length in bytes) and the final path is
resolved and checked to stay inside the library root.

The template's first ``/`` part names the series folder; the last part is the
file name (without extension). A series that already has a stored folder keeps
it: only the parts after the first are rendered for its episodes.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apps.configuration.defaults import DEFAULT_NAMING_TEMPLATE

DEFAULT_TEMPLATE = (
    DEFAULT_NAMING_TEMPLATE  # docs/architecture.md "Files on disk"; the owner can change it in the settings
)

PLACEHOLDERS: dict[str, str] = {
    "series_title": "the series title",
    "year": "the year the series started (empty when unknown)",
    "season": "the season number (0 for films and specials)",
    "episode": "the episode number",
    "episode_title": "the episode title (German, else English)",
    "episode_title_de": "the German episode title",
    "episode_title_en": "the English episode title",
    "language": "the language of the file (e.g. German Dub)",
    "site": "the catalog site (aniworld or sto)",
    "slug": "the series' slug on the catalog site",
}
_NUMERIC_PLACEHOLDERS = {"season", "episode", "year"}

# 255 bytes is the limit of ext4/btrfs/ZFS names and of SMB/NTFS in UTF-16 units; leave room for
# an extension and for suffixes that tools add next to a file.
MAX_COMPONENT_BYTES = 200
MAX_PATH_BYTES = 4000

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{prefix}{suffix}" for prefix in ("COM", "LPT") for suffix in [*"0123456789", "¹", "²", "³"]
}
_REPLACEMENTS = {
    ": ": " - ",
    ":": "-",
    "/": "-",
    "\\": "-",
    "|": "-",
    '"': "'",
    "<": "",
    ">": "",
    "?": "",
    "*": "",
}
_BIDI_CONTROLS = {chr(code) for code in [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F]}
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]|\{\s*\}")
_SPACES = re.compile(r"\s+")
_EXTENSION = re.compile(r"^[A-Za-z0-9]{1,8}$")


class TemplateError(ValueError):
    """The naming template cannot be used; the message says why and how to fix it."""


class UnsafePathError(ValueError):
    """A rendered path would leave the library root (or could not be made safe)."""


@dataclass(frozen=True)
class NamingContext:
    """What a template is rendered from."""

    series_title: str
    season: int
    episode: int
    year: int | None = None
    episode_title_de: str = ""
    episode_title_en: str = ""
    language: str = ""
    site: str = ""
    slug: str = ""

    def values(self) -> dict[str, Any]:
        return {
            "series_title": self.series_title,
            "year": self.year,
            "season": self.season,
            "episode": self.episode,
            "episode_title": self.episode_title_de or self.episode_title_en,
            "episode_title_de": self.episode_title_de,
            "episode_title_en": self.episode_title_en,
            "language": self.language,
            "site": self.site,
            "slug": self.slug,
        }


SAMPLE = NamingContext(
    series_title="Re:Zero: Starting Life in Another World",
    year=2016,
    season=1,
    episode=3,
    episode_title_de="Neuanfang in der Endlosschleife",
    episode_title_en="Starting Over From Zero",
    language="German Dub",
    site="aniworld",
    slug="rezero-starting-life-in-another-world",
)


def _encoded_size(text: str) -> int:
    """Size of ``text`` as a file name: UTF-8 bytes (Linux) or UTF-16 units (SMB/NTFS), whichever is larger."""
    return max(len(text.encode("utf-8")), len(text.encode("utf-16-le")) // 2)


def _truncate_to_bytes(text: str, limit: int) -> str:
    """Cut at a character boundary so that the UTF-8 bytes and the UTF-16 units both fit in ``limit``."""
    utf8 = utf16 = 0
    end = 0
    for end, char in enumerate(text, start=1):
        utf8 += len(char.encode("utf-8"))
        utf16 += 2 if ord(char) > 0xFFFF else 1
        if utf8 > limit or utf16 > limit:
            end -= 1
            break
    text = text[:end]
    # Never leave half of a combined emoji or an accent without its letter.
    while text and (
        text[-1] == "\u200d" or unicodedata.category(text[-1]) in {"Mn", "Me", "Sk"} or text[-1] == "\ufe0f"
    ):
        text = text[:-1]
    return text


def sanitize_component(value: str, *, fallback: str = "_", max_bytes: int = MAX_COMPONENT_BYTES) -> str:
    """One safe path component (no separators) from any text; never empty, never ``.``/``..``."""
    text = unicodedata.normalize("NFC", str(value))
    text = "".join(
        " " if unicodedata.category(char) == "Cc" else "" if char in _BIDI_CONTROLS else char for char in text
    )
    for bad, good in _REPLACEMENTS.items():
        text = text.replace(bad, good)
    text = _SPACES.sub(" ", text).strip(" .")
    text = _truncate_to_bytes(text, max_bytes).rstrip(" .")
    if not text:
        return fallback
    stem = text.split(".", 1)[0].strip().upper()
    if stem in _WINDOWS_RESERVED:
        text = f"_{text}"
    return text


def _tidy_rendered(text: str) -> str:
    """Remove what empty placeholders leave behind: ``()``, doubled spaces, a trailing `` - ``."""
    text = _EMPTY_BRACKETS.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    return text.rstrip(" -_.").lstrip(" -_")


def _parse(template: str) -> list[list[tuple[str, str | None, str | None, str | None]]]:
    if not isinstance(template, str) or not template.strip():
        raise TemplateError("The naming template is empty.")
    if "\\" in template:
        raise TemplateError("Use '/' to separate folders in the naming template, not '\\'.")
    if template.startswith("/"):
        raise TemplateError("The naming template must be relative to the library folder (no leading '/').")
    parts = template.split("/")
    if len(parts) < 2:
        raise TemplateError(
            "The naming template needs a series folder and a file name, e.g. '{series_title} ({year})/…'."
        )
    parsed = []
    for index, part in enumerate(parts, start=1):
        if not part.strip():
            raise TemplateError(f"Part {index} of the naming template is empty (two '/' in a row?).")
        try:
            pieces = list(string.Formatter().parse(part))
        except ValueError as exc:
            raise TemplateError(f"The naming template has unbalanced braces in part {index}: {exc}.") from None
        literal = "".join(piece[0] for piece in pieces)
        if literal.strip() in {".", ".."}:
            raise TemplateError("The naming template may not contain '.' or '..' folders.")
        bad_chars = sorted({char for char in literal if char in '<>:"|?*' or unicodedata.category(char) == "Cc"})
        if bad_chars:
            shown = " ".join(repr(char) for char in bad_chars)
            raise TemplateError(f"The naming template contains characters not allowed in file names: {shown}.")
        parsed.append(pieces)
    return parsed


def validate_template(template: str) -> None:
    """Raise :class:`TemplateError` with a readable reason if ``template`` cannot be used."""
    parsed = _parse(template)
    used: set[str] = set()
    for pieces in parsed:
        for _literal, field, spec, conversion in pieces:
            if field is None:
                continue
            if field == "":
                raise TemplateError("The naming template has an empty placeholder '{}'; name it, e.g. {series_title}.")
            if field not in PLACEHOLDERS:
                known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
                raise TemplateError(f"Unknown placeholder {{{field}}} in the naming template. Known: {known}.")
            if conversion:
                raise TemplateError(f"Conversions like '!{conversion}' are not supported in {{{field}}}.")
            if spec:
                sample = SAMPLE.values()[field]
                try:
                    format(sample, spec)
                except (ValueError, TypeError):
                    raise TemplateError(f"The format ':{spec}' does not work for {{{field}}}.") from None
            used.add(field)
    file_fields = {piece[1] for piece in parsed[-1] if piece[1]}
    if "episode" not in file_fields:
        raise TemplateError("The file name (the last part of the naming template) must contain {episode}.")
    if "season" not in used:
        raise TemplateError("The naming template must contain {season}, or episodes of different seasons collide.")
    sample = SAMPLE.values()
    for pieces in parsed:
        _render_part(pieces, sample)  # refuses fixed text that leaves no room for the titles


def _fit_titles(segments: list[tuple[str, bool]], max_bytes: int) -> list[str]:
    """Shorten only the title segments (``True``) so that all of them together fit in ``max_bytes``.

    Fixed text (template literals, season and episode numbers) is never cut: cutting the whole name
    once dropped the ``S01E08`` marker and made two episodes share one file. The titles share what is
    left evenly: each is cut to the same byte cap, found by bisection.
    """
    fixed = sum(_encoded_size(text) for text, shortenable in segments if not shortenable)
    titles = [text for text, shortenable in segments if shortenable]
    if fixed + sum(_encoded_size(text) for text in titles) <= max_bytes:
        return [text for text, _ in segments]
    if fixed > max_bytes:
        raise TemplateError(
            f"The fixed text of a naming template part is too long ({fixed} bytes, at most {max_bytes}); shorten it."
        )
    room = max_bytes - fixed
    low, high = 0, max(_encoded_size(text) for text in titles)
    while low < high:  # the largest cap whose cut titles still fit in the room
        cap = (low + high + 1) // 2
        if sum(_encoded_size(_truncate_to_bytes(text, cap)) for text in titles) <= room:
            low = cap
        else:
            high = cap - 1
    return [_truncate_to_bytes(text, low).rstrip() if shortenable else text for text, shortenable in segments]


def _render_part(
    pieces: list[tuple[str, str | None, str | None, str | None]],
    values: dict[str, Any],
    max_bytes: int = MAX_COMPONENT_BYTES,
) -> str:
    segments: list[tuple[str, bool]] = []  # (text, may be shortened)
    for literal, field, spec, _conversion in pieces:
        if literal:
            segments.append((literal, False))
        if field is None:
            continue
        value = values[field]
        if value is None or value == "":
            continue
        if field in _NUMERIC_PLACEHOLDERS:
            segments.append((format(int(value), spec or ""), False))
        else:
            # Sanitise each value on its own: a title can never inject a separator or a '..'.
            segments.append(
                (sanitize_component(format(str(value), spec or ""), fallback="", max_bytes=max_bytes), True)
            )
    return sanitize_component(_tidy_rendered("".join(_fit_titles(segments, max_bytes))), max_bytes=max_bytes)


def with_suffix(name: str, suffix: str, max_bytes: int = MAX_COMPONENT_BYTES) -> str:
    """``name`` and ``suffix`` joined by a space as one safe component; ``name`` (never the suffix) is shortened."""
    suffix = " " + sanitize_component(suffix, fallback="", max_bytes=max_bytes // 2)
    room = max_bytes - _encoded_size(suffix)
    return sanitize_component(_truncate_to_bytes(name, room).rstrip(" .") + suffix, max_bytes=max_bytes)


def render_parts(template: str, context: NamingContext) -> list[str]:
    """The template rendered into safe path components (series folder first, file name last, no extension)."""
    validate_template(template)
    values = context.values()
    return [_render_part(pieces, values) for pieces in _parse(template)]


def sanitize_extension(extension: str) -> str:
    extension = extension.lstrip(".")
    if not _EXTENSION.match(extension):
        raise UnsafePathError(f"'{extension}' is not a usable file extension (letters and digits, at most 8).")
    return extension.lower()


def render_relative(template: str, context: NamingContext, extension: str, *, series_folder: str | None = None) -> str:
    """Relative path (``/`` separated) for an episode file; ``series_folder`` replaces the first part."""
    parts = render_parts(template, context)
    if series_folder:
        parts[0] = series_folder
    parts[-1] = f"{parts[-1]}.{sanitize_extension(extension)}"
    relative = "/".join(parts)
    if len(relative.encode("utf-8")) > MAX_PATH_BYTES:
        raise UnsafePathError("The rendered path is longer than file systems allow; shorten the naming template.")
    return relative


def series_folder_name(template: str, title: str, year: int | None, *, site: str = "", slug: str = "") -> str:
    """The folder a new series gets: the first part of the template rendered for that series."""
    context = NamingContext(series_title=title, year=year, season=1, episode=1, site=site, slug=slug)
    return render_parts(template, context)[0]


def resolve_inside(root: Path, relative: str | Path) -> Path:
    """Absolute path of ``relative`` under ``root``, refused if it (or a symlink on the way) leaves the root."""
    root_resolved = Path(root).resolve()
    relative = Path(relative)
    if relative.is_absolute():
        raise UnsafePathError(f"'{relative}' is an absolute path; library paths must be relative to the library.")
    resolved = (root_resolved / relative).resolve()
    if resolved == root_resolved or not resolved.is_relative_to(root_resolved):
        raise UnsafePathError(
            f"Refusing '{relative}': it resolves to '{resolved}', which is outside the library folder '{root_resolved}'."
        )
    return resolved


def preview(template: str, sample: NamingContext | None = None, extension: str = "mkv") -> dict[str, str]:
    """What the config page shows: the template rendered for a sample episode and a sample film."""
    sample = sample or SAMPLE
    film = NamingContext(**{**sample.__dict__, "season": 0, "episode": 1})
    return {
        "episode": render_relative(template, sample, extension),
        "film": render_relative(template, film, extension),
    }
