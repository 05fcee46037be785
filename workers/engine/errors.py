"""What can go wrong in a download, sorted by what the queue should do about it.

* transient: try again later (5xx, timeouts, a truncated transfer, a hoster that
  could not be resolved this time) — uses an attempt, with backoff;
* permanent: retrying cannot help (404, no source in an allowed language, the
  file cannot fit on the disk) — the item fails at once;
* blocking: the catalog site is blocking us — wait until ``retry_at`` without
  using an attempt.

Every error carries a ``reason`` a person understands; it is what the queue
stores as the item's last error.
"""

from __future__ import annotations

import enum
import errno
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


class FailureKind(enum.StrEnum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    BLOCKING = "blocking"


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    kind: FailureKind = FailureKind.TRANSIENT

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class TransientDownloadError(EngineError):
    kind = FailureKind.TRANSIENT


class PermanentDownloadError(EngineError):
    kind = FailureKind.PERMANENT


class TruncatedDownload(TransientDownloadError):
    """The file arrived shorter than announced (bytes or playing time); the partial is discarded."""


class InsufficientSpace(PermanentDownloadError):
    """The library volume cannot hold the episode (checked before start, or ENOSPC while writing)."""


class TargetConflict(PermanentDownloadError):
    """The library refuses the target path (another episode's file is there): not the hoster's fault."""


class TargetExists(TargetConflict):
    """A file is already where this episode belongs and it is not the episode's own: it is never overwritten."""

    def __init__(self, target: Path):
        super().__init__(
            f"'{target.name}' already exists in '{target.parent}' and is not this episode's file; it was not "
            "overwritten. Rescan the library or move that file away, then retry."
        )


class Cancelled(Exception):
    """Raised by a progress callback to stop a download cooperatively.

    ``discard_partial`` is True for cancel/remove (the partial file is deleted)
    and False for a queue stop (the partial file is kept so the next attempt resumes).
    """

    def __init__(self, reason: str = "cancelled", *, discard_partial: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.discard_partial = discard_partial


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    reason: str
    retry_at: datetime | None = None


_HTTP_STATUS = re.compile(r"HTTP Error (\d{3})")
_PERMANENT_HTTP = {400, 404, 410, 451}
# yt-dlp's ContentTooShortError ("Downloaded 10 bytes, expected 20 bytes") and IncompleteRead ("10 bytes read, 10 more expected")
_CUT_SHORT = re.compile(r"Downloaded \d+ bytes, expected|bytes read, \d+ more expected")


def _http_reason(status: int) -> Failure:
    if status in _PERMANENT_HTTP:
        return Failure(FailureKind.PERMANENT, f"The hoster says this file does not exist or is gone (HTTP {status}).")
    if status in (401, 403):
        return Failure(FailureKind.TRANSIENT, f"The hoster refused the download (HTTP {status}); will re-resolve.")
    if status == 429:
        return Failure(FailureKind.TRANSIENT, "The hoster is rate limiting us (HTTP 429).")
    if 500 <= status < 600:
        return Failure(FailureKind.TRANSIENT, f"The hoster had a server error (HTTP {status}).")
    return Failure(FailureKind.TRANSIENT, f"The hoster answered HTTP {status}.")


def _is_disk_full(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "No space left on device" in str(current) or "[Errno 28]" in str(current):
            return True
        exc_info = getattr(current, "exc_info", None)
        nested = exc_info[1] if isinstance(exc_info, tuple) and len(exc_info) > 1 else None
        current = nested or current.__cause__ or current.__context__
    return False


DISK_FULL_REASON = "The library volume is full (no space left on device); free some space and retry."


def classify(exc: BaseException) -> Failure:
    """Map any exception from resolving or downloading to what the queue should do."""
    from yt_dlp.networking.exceptions import HTTPError, IncompleteRead, TransportError
    from yt_dlp.utils import ContentTooShortError, DownloadError

    from apps.catalog.types import CatalogError, SiteBlocking

    if isinstance(exc, EngineError):
        return Failure(exc.kind, exc.reason)
    if _is_disk_full(exc):
        return Failure(FailureKind.PERMANENT, DISK_FULL_REASON)
    if isinstance(exc, SiteBlocking):
        return Failure(FailureKind.BLOCKING, str(exc), retry_at=exc.retry_at)
    if isinstance(exc, CatalogError):
        return Failure(FailureKind.PERMANENT if exc.permanent else FailureKind.TRANSIENT, str(exc))
    if isinstance(exc, HTTPError):
        return _http_reason(exc.status)
    if isinstance(exc, ContentTooShortError | IncompleteRead):
        return Failure(FailureKind.TRANSIENT, f"The transfer was cut short ({exc}).")
    if isinstance(exc, TransportError | TimeoutError | ConnectionError):
        return Failure(FailureKind.TRANSIENT, f"Network problem talking to the hoster: {exc}")
    if isinstance(exc, DownloadError):
        message = _clean_ytdlp_message(str(exc))
        status = _HTTP_STATUS.search(message)
        if status:
            failure = _http_reason(int(status.group(1)))
            return Failure(failure.kind, f"{failure.reason} {message}")
        if _CUT_SHORT.search(message):
            return Failure(FailureKind.TRANSIENT, f"The transfer was cut short: {message}")
        return Failure(FailureKind.TRANSIENT, f"Download failed: {message}")
    if isinstance(exc, OSError):
        return Failure(FailureKind.TRANSIENT, f"File system error: {exc.strerror or exc}")
    return Failure(FailureKind.TRANSIENT, f"Unexpected error: {type(exc).__name__}: {exc}")


def _clean_ytdlp_message(message: str) -> str:
    message = message.replace("\r", "").strip()
    for prefix in ("ERROR: ", "[download] ", "Got error: "):
        message = message.replace(prefix, "")
    return message.strip()
