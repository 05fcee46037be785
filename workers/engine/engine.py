"""Download one episode: space check → transfer (resumable) → remux if needed → verify → atomic rename.

A file that arrives as MP4 or Matroska is kept as it is (an MP4's language is
tagged in place, see :mod:`workers.engine.container`); only MPEG-TS (HLS) and
unknown containers are remuxed into Matroska, after the transfer. The final
path's extension is the container's: the caller's ``target`` is asked for it.

Pure Python; no Django. The worker task supplies the media source, the target
path and a progress callback that may raise :class:`Cancelled`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from apps.catalog.types import MediaSource
from workers.engine.container import KEPT, MP4, extension_after, is_complete, sniff_file, tag_mp4_language
from workers.engine.errors import (
    DISK_FULL_REASON,
    Cancelled,
    EngineError,
    FailureKind,
    InsufficientSpace,
    PermanentDownloadError,
    TargetExists,
    TransientDownloadError,
    TruncatedDownload,
    classify,
)
from workers.engine.fetch import CancelGate, EngineOptions, ProgressCallback, inspect, open_session, transfer
from workers.engine.ffmpeg import probe_duration, remux_to_matroska
from workers.engine.storage import (
    discard_partial,
    download_name,
    ensure_free_space,
    incoming_dir,
    move_into_place,
    partial_bytes,
)

logger = logging.getLogger("aniworld.download")


@dataclass(frozen=True)
class DownloadRequest:
    item_id: int | str
    source: MediaSource
    # The final path inside the library (sanitised and checked by the library) for the extension of the file's
    # container ("mkv", "mp4", "webm"), asked once the transfer is complete; a plain Path gets that extension.
    target: Path | Callable[[str], Path]
    library_root: Path
    language: str | None = None  # catalog language code, written into the file's metadata
    title: str | None = None  # written into a remuxed file's metadata
    expected_duration: float | None = None  # seconds, when the caller knows it
    # Called with the HTTP status when the hoster refused parallel range requests (the download goes on over one
    # connection); the caller remembers it for that hoster.
    on_parallel_refused: Callable[[int], None] | None = None
    # Called with the final path just before the move: raises (an EngineError) to refuse it, returns True when an
    # existing file there may be replaced (the episode's own file). Without it an existing file is never replaced.
    before_move: Callable[[Path], bool] | None = None


@dataclass(frozen=True)
class DownloadResult:
    path: Path
    size: int
    duration: float | None
    resumed_from: int  # bytes that were already on disk when this attempt started
    remuxed: bool = False  # False: the file is the hoster's own container, moved into place as it arrived


def final_path(target: Path | Callable[[str], Path], extension: str) -> Path:
    return target(extension) if callable(target) else target.with_suffix(f".{extension}")


class _TargetRefused(Exception):
    """The caller's ``target`` raised: its own error goes back to it unchanged."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


def _target(request: DownloadRequest, extension: str) -> Path:
    try:
        return final_path(request.target, extension)
    except Exception as error:
        raise _TargetRefused(error) from error


def duration_tolerance(expected: float) -> float:
    """How much shorter than expected a file may play before we call it truncated."""
    return max(1.5, expected * 0.02)


def _verify(downloaded_duration: float | None, final: Path, expected: float | None) -> float:
    size = final.stat().st_size if final.exists() else 0
    if size <= 0:
        raise TruncatedDownload("The downloaded file is empty; the download was damaged.")
    duration = probe_duration(final)
    if duration is None or duration <= 0:
        raise TruncatedDownload("The downloaded file has no readable playing time; it is damaged or incomplete.")
    reference = expected or downloaded_duration
    if reference and duration < reference - duration_tolerance(reference):
        raise TruncatedDownload(
            f"Only {duration:.1f} s of {reference:.1f} s arrived: the transfer was truncated; will download again."
        )
    return duration


def _move_to_target(finished: Path, target: Path, request: DownloadRequest) -> None:
    may_replace = request.before_move(target) if request.before_move is not None else False
    try:
        move_into_place(finished, target, replace=may_replace)
    except FileExistsError:
        raise TargetExists(target) from None


def download(
    request: DownloadRequest,
    progress: ProgressCallback | None = None,
    options: EngineOptions | None = None,
) -> DownloadResult:
    """Fetch, remux if needed, verify and move one episode into ``request.target``.

    Raises :class:`Cancelled` (partial deleted when ``discard_partial``),
    :class:`TransientDownloadError` or :class:`PermanentDownloadError` with a
    readable ``reason``; the classification is in ``.kind``.
    """
    options = options or EngineOptions()
    incoming = incoming_dir(request.library_root)
    name = download_name(incoming, request.item_id)
    remuxed = incoming / f"{request.item_id}.remux.mkv"
    resumed_from = partial_bytes(incoming, request.item_id)
    gate = CancelGate(progress)
    try:
        gate.check()
        if not name.is_file():
            ydl = open_session(request.source, options, gate)
            with ydl:
                remote = inspect(ydl, request.source, options.http_retries)
                estimate = remote.size or options.unknown_size_estimate
                # HLS is remuxed: the transfer and the remuxed copy exist side by side for a moment
                copies = 2 if remote.playlist is not None else 1
                ensure_free_space(incoming, copies * estimate + options.space_margin - resumed_from)
                logger.info(
                    "item %s: downloading %s (%s, %s bytes, resuming from %s)",
                    request.item_id,
                    request.source.hoster,
                    remote.protocol,
                    remote.size,
                    resumed_from,
                )
                transfer(ydl, request.source, remote, name, request.item_id, options, gate, request.on_parallel_refused)
            downloaded = name.stat().st_size
            gate.report(downloaded, downloaded, gate.last[2], 0.0)
            expected = request.expected_duration or remote.duration
        else:
            expected = request.expected_duration
        gate.tick()
        container = sniff_file(name)
        target = _target(request, extension_after(container))
        if container in KEPT:
            if not is_complete(name, container):
                raise TruncatedDownload(
                    f"The downloaded {container} file ends before its last part: it is damaged or incomplete."
                )
            if container == MP4:
                tag_mp4_language(name, request.language)
            finished, downloaded_duration = name, None
        else:
            ensure_free_space(incoming, name.stat().st_size + options.space_margin)
            remux_to_matroska(name, remuxed, language=request.language, title=request.title, tick=gate.tick)
            finished, downloaded_duration = remuxed, probe_duration(name)
        duration = _verify(downloaded_duration, finished, expected)
        size = finished.stat().st_size
        _move_to_target(finished, target, request)
        discard_partial(incoming, request.item_id)
        logger.info(
            "item %s: complete (%s%s), %s bytes, %.1f s -> %s",
            request.item_id,
            container or "unknown container",
            ", remuxed" if finished is remuxed else "",
            size,
            duration,
            target,
        )
        return DownloadResult(
            path=target, size=size, duration=duration, resumed_from=resumed_from, remuxed=finished is remuxed
        )
    except _TargetRefused as refused:
        raise refused.error from None
    except Cancelled as cancel:
        remuxed.unlink(missing_ok=True)
        if cancel.discard_partial:
            discard_partial(incoming, request.item_id)
        raise
    except (TruncatedDownload, InsufficientSpace) as error:
        if isinstance(error, TruncatedDownload) or error.reason == DISK_FULL_REASON:
            discard_partial(incoming, request.item_id)
        raise
    except EngineError as error:
        remuxed.unlink(missing_ok=True)
        if name.is_file():  # a complete transfer that cannot be remuxed is damaged: start over next time
            discard_partial(incoming, request.item_id)
        logger.info("item %s: %s", request.item_id, error.reason)
        raise
    except Exception as exc:
        remuxed.unlink(missing_ok=True)
        failure = classify(exc)
        logger.info("item %s: %s (%s)", request.item_id, failure.reason, type(exc).__name__)
        if failure.reason == DISK_FULL_REASON:
            discard_partial(incoming, request.item_id)  # give the space back to the other downloads
            raise InsufficientSpace(failure.reason) from exc
        if failure.kind == FailureKind.PERMANENT:
            raise PermanentDownloadError(failure.reason) from exc
        raise TransientDownloadError(failure.reason) from exc
