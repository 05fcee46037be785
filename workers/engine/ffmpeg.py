"""ffmpeg and ffprobe: find them, read a file's duration, remux into Matroska."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from apps.catalog.types import Language
from workers.engine.errors import PermanentDownloadError, TransientDownloadError

# ISO 639-2/B codes for the audio track of each catalog language (Matroska uses 639-2).
AUDIO_LANGUAGE = {"de": "ger", "de-sub": "jpn", "en-sub": "jpn", "en": "eng"}
SUBTITLE_LANGUAGE = {"de-sub": "ger", "en-sub": "eng"}

_DURATION = re.compile(r"Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)")


def _label(language: str) -> str:
    try:
        return Language(language).label
    except ValueError:
        return language


@functools.cache
def find_ffmpeg() -> str | None:
    """System ffmpeg when on PATH, else the static build shipped with imageio-ffmpeg; None when neither."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # the package is a dependency; this is a broken install
        return None


def ffmpeg_executable() -> str:
    executable = find_ffmpeg()
    if executable is None:
        raise PermanentDownloadError("ffmpeg is not installed on this worker (needed to remux).")
    return executable


def ffmpeg_environment() -> dict[str, str]:
    """The environment to run ffmpeg in.

    The static ffmpeg from imageio-ffmpeg is linked against its own glibc; when
    it converts a charset (MPEG-TS service names) it would load the host's
    gconv modules and crash. Pointing GCONV_PATH at an empty location makes
    that conversion fail softly instead. A system ffmpeg runs unchanged.
    """
    environment = dict(os.environ)
    if not shutil.which("ffmpeg"):
        environment["GCONV_PATH"] = str(Path(__file__).with_name("no-gconv-modules"))
    return environment


@functools.cache
def ffprobe_executable() -> str | None:
    return shutil.which("ffprobe")


def probe_duration(path: Path) -> float | None:
    """Playing time in seconds (ffprobe if present, else parsed from ``ffmpeg -i``); None when unknown."""
    ffprobe = ffprobe_executable()
    if ffprobe:
        result = subprocess.run(
            [ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
            capture_output=True,
            text=True,
            errors="replace",  # ffmpeg cuts long titles mid-character in its output
            timeout=120,
            check=False,
        )
        try:
            return float(json.loads(result.stdout)["format"]["duration"])
        except (ValueError, KeyError, TypeError):
            return None
    result = subprocess.run(
        [ffmpeg_executable(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        check=False,
        env=ffmpeg_environment(),
    )
    match = _DURATION.search(result.stderr)
    if not match:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def remux_to_matroska(
    source: Path,
    destination: Path,
    *,
    language: str | None,
    title: str | None,
    tick: Callable[[], None] | None = None,
) -> None:
    """Copy every audio/video/subtitle stream into ``destination`` (Matroska), tagged with the language.

    Output is bit-exact (no random UIDs or encoder strings), so the same input
    always gives the same bytes. ``tick`` is called about twice a second while
    ffmpeg runs; if it raises (a cancel), ffmpeg is killed and the error propagates.
    """
    command = [
        ffmpeg_executable(),
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-i",
        str(source),
        "-map",
        "0:v?",
        "-map",
        "0:a?",
        "-map",
        "0:s?",
        "-c",
        "copy",
        "-fflags",
        "+bitexact",
        "-flags:v",
        "+bitexact",
        "-flags:a",
        "+bitexact",
        "-map_metadata",
        "-1",
    ]
    if title:
        command += ["-metadata", f"title={title}"]
    if language:
        audio = AUDIO_LANGUAGE.get(language)
        if audio:
            command += ["-metadata:s:a", f"language={audio}"]
        subtitle = SUBTITLE_LANGUAGE.get(language)
        if subtitle:
            command += ["-metadata:s:s", f"language={subtitle}"]
        command += ["-metadata", f"ANIWORLD_LANGUAGE={_label(language)}"]
    command += ["-f", "matroska", str(destination)]

    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        env=ffmpeg_environment(),
    )
    try:
        while True:
            try:
                _, stderr = process.communicate(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if tick is not None:
                    tick()
    except BaseException:
        process.kill()
        process.communicate()
        destination.unlink(missing_ok=True)
        raise
    if process.returncode != 0:
        destination.unlink(missing_ok=True)
        message = (stderr or "").strip().splitlines()[-3:]
        if any("No space left on device" in line for line in message):
            raise OSError(28, "No space left on device")
        raise TransientDownloadError(
            "The downloaded file could not be remuxed (it is probably damaged or incomplete): " + " | ".join(message)
        )
