"""The transfer itself, on yt-dlp's downloaders (no extractor: the catalog already resolved the media URL).

Hosters cap each connection's speed, so a plain file whose hoster answers
``Range`` is fetched over ``connections`` connections in byte ranges written in
place (:mod:`workers.engine.ranges`; its ledger makes a restarted attempt
continue from the complete prefix). A hoster that answers 429/403 to the
parallel ranges gets one connection for the rest and the caller is told, so it
can remember that hoster. One connection is yt-dlp's HTTP downloader
(``continuedl``: ``Range`` from the size of ``<item-id>.part``). HLS goes
through yt-dlp's native fragment downloader with ``connections`` parallel
fragments, whose ``.ytdl`` file records the fragment index.

Every request yt-dlp makes (media, redirects, playlists, segments, keys) goes
through the outbound policy (:mod:`workers.engine.outbound`); a refused one
fails the download permanently with the reason.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from yt_dlp import YoutubeDL
from yt_dlp.downloader.http import HttpFD
from yt_dlp.networking import Request
from yt_dlp.networking.exceptions import HTTPError, TransportError
from yt_dlp.utils.networking import std_headers

from apps.catalog.outbound import OutboundPolicy, allow_list, split_host
from apps.catalog.types import HosterError, HosterRefused, MediaKind, MediaSource
from workers.engine.errors import Cancelled, PermanentDownloadError, TransientDownloadError
from workers.engine.ffmpeg import ffmpeg_executable
from workers.engine.outbound import RefusedByPolicy, confine
from workers.engine.ranges import (
    PARALLEL_REFUSED_STATUSES,
    UNCAPPED_BYTES_PER_SECOND,
    ParallelRangesRefused,
    after_refusal,
    download_ranges,
)

logger = logging.getLogger("aniworld.download")

ProgressCallback = Callable[[int, int | None, float | None, float | None], None]

_STREAM_INF = re.compile(r"#EXT-X-STREAM-INF:([^\n]*)\n\s*([^#\s][^\n]*)")
_BANDWIDTH = re.compile(r"(?:^|,)BANDWIDTH=(\d+)")
_RESOLUTION = re.compile(r"RESOLUTION=(\d+)x(\d+)")
_EXTINF = re.compile(r"#EXTINF:\s*([\d.]+)")


@dataclass(frozen=True)
class EngineOptions:
    """Knobs of the transfer; the worker fills them from the owner's configuration."""

    # Parallel connections of one download: byte ranges of a plain file, fragments of HLS. 1 = one connection.
    connections: int = 8
    range_chunk: int = 4 * 1024 * 1024  # bytes per range request of a plain file
    # One connection at least this fast (bytes/s) is not capped: the file goes on over one. None: always split.
    uncapped_speed: float | None = UNCAPPED_BYTES_PER_SECOND
    http_retries: int = 3
    fragment_retries: int = 5
    rate_limit: int | None = None  # bytes per second for the whole download; None = unlimited
    socket_timeout: float = 20.0
    unknown_size_estimate: int = 300 * 1024 * 1024  # assumed size when the hoster does not say
    space_margin: int = 32 * 1024 * 1024
    # Trusted ``host`` / ``host:port`` entries (ANIWORLD_CATALOG_ALLOWED_HOSTS: tests, the demo); every other
    # request must go to public addresses.
    allowed_hosts: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RemoteMedia:
    """What we learned about the media before downloading it."""

    url: str  # the media playlist for HLS (a master playlist is resolved to its best variant)
    protocol: str
    size: int | None = None  # bytes, when the hoster says (Content-Length / Content-Range)
    duration: float | None = None  # seconds, from the HLS playlist
    playlist: str | None = None
    ranged: bool = False  # the hoster answered a Range request with 206 and the total size


class _YtdlpLogger:
    def debug(self, message: str) -> None:
        logger.debug("yt-dlp: %s", message)

    def info(self, message: str) -> None:
        logger.debug("yt-dlp: %s", message)

    def warning(self, message: str) -> None:
        logger.info("yt-dlp: %s", message)

    def error(self, message: str) -> None:
        logger.warning("yt-dlp: %s", message)


class CancelGate:
    """Makes a cancel stick: once the callback raised, every later tick and request raises at once.

    yt-dlp calls progress hooks from several fragment threads; the gate
    serialises calls into the owner's callback and lets queued fragments fail
    before they open a connection, so a cancel takes effect immediately.
    """

    def __init__(self, callback: ProgressCallback | None):
        self._callback = callback
        self._lock = threading.Lock()
        self.cancelled: Cancelled | None = None
        self.last: tuple[int, int | None, float | None, float | None] = (0, None, None, None)

    def check(self) -> None:
        if self.cancelled is not None:
            raise self.cancelled

    def report(self, done: int, total: int | None, speed: float | None, eta: float | None) -> None:
        with self._lock:
            self.check()
            self.last = (done, total, speed, eta)
            if self._callback is None:
                return
            try:
                self._callback(done, total, speed, eta)
            except Cancelled as cancel:
                self.cancelled = cancel
                raise

    def tick(self) -> None:
        """Report the last known progress again (used while remuxing, so a cancel is still noticed)."""
        self.report(*self.last)


def _base_params(options: EngineOptions, concurrent: int) -> dict[str, Any]:
    rate_limit = options.rate_limit
    if rate_limit and concurrent > 1:
        rate_limit = max(1, rate_limit // concurrent)  # yt-dlp limits each fragment connection separately
    return {
        "logger": _YtdlpLogger(),
        "quiet": True,
        "no_warnings": False,
        "noprogress": True,
        "continuedl": True,
        "nopart": False,
        "overwrites": None,
        "retries": options.http_retries,
        "fragment_retries": options.fragment_retries,
        "skip_unavailable_fragments": False,  # a missing fragment is a truncated episode, not a skip
        "keep_fragments": False,
        "concurrent_fragment_downloads": max(1, concurrent),
        "ratelimit": rate_limit,
        "socket_timeout": options.socket_timeout,
        "retry_sleep_functions": {"http": lambda n: min(0.5 * 2**n, 5.0), "fragment": lambda n: min(0.5 * 2**n, 5.0)},
        "ffmpeg_location": ffmpeg_executable(),
        "cachedir": False,
        "updatetime": False,
        # First read size; yt-dlp then sizes reads to about a second of data, so a cancel is seen quickly.
        "buffersize": 16 * 1024,
    }


def _headers(source: MediaSource) -> dict[str, str]:
    return {**std_headers, **source.headers}


def _open(ydl: YoutubeDL, request: Request, retries: int) -> Any:
    """``ydl.urlopen`` with the same retry rule as the transfer: 5xx and network errors, with backoff."""
    for attempt in range(retries + 1):
        try:
            return ydl.urlopen(request)
        except HTTPError as error:
            if error.status < 500 or attempt == retries:
                raise
        except TransportError:
            if attempt == retries:
                raise
        time.sleep(min(0.5 * 2**attempt, 5.0))
    raise AssertionError("unreachable")


def _fetch_text(ydl: YoutubeDL, url: str, headers: dict[str, str], retries: int) -> tuple[str, str]:
    response = _open(ydl, Request(url, headers=headers), retries)
    try:
        return response.read().decode("utf-8", "replace"), response.url
    finally:
        response.close()


def _best_variant(master: str, base_url: str) -> tuple[str, int | None]:
    best: tuple[tuple[int, int], str, int | None] | None = None
    for attributes, uri in _STREAM_INF.findall(master):
        bandwidth_match = _BANDWIDTH.search(attributes)
        resolution = _RESOLUTION.search(attributes)
        bandwidth = int(bandwidth_match.group(1)) if bandwidth_match else None
        rank = (int(resolution.group(2)) if resolution else 0, bandwidth or 0)
        if best is None or rank > best[0]:
            best = (rank, urljoin(base_url, uri.strip()), bandwidth)
    if best is None:
        raise PermanentDownloadError("The HLS master playlist lists no streams.")
    return best[1], best[2]


def inspect(ydl: YoutubeDL, source: MediaSource, retries: int) -> RemoteMedia:
    """Ask the hoster for the size (files) or the playlist (HLS) before downloading: fails early on 404."""
    headers = _headers(source)
    if source.kind == MediaKind.HLS:
        text, url = _fetch_text(ydl, source.url, headers, retries)
        if "#EXTM3U" not in text:
            raise PermanentDownloadError("The hoster's stream address did not return an HLS playlist.")
        bandwidth = None
        if "#EXT-X-STREAM-INF" in text:
            url, bandwidth = _best_variant(text, url)
            text, url = _fetch_text(ydl, url, headers, retries)
        duration = sum(float(value) for value in _EXTINF.findall(text)) or None
        size = int(bandwidth * duration / 8) if bandwidth and duration else None
        return RemoteMedia(url=url, protocol="m3u8_native", size=size, duration=duration, playlist=text)

    response = _open(ydl, Request(source.url, headers={**headers, "Range": "bytes=0-0"}), retries)
    try:
        size = None
        ranged = False
        content_range = response.headers.get("Content-Range", "")
        if response.status == 206 and "/" in content_range and not content_range.endswith("/*"):
            size = int(content_range.rsplit("/", 1)[1])
            ranged = True
        elif response.headers.get("Content-Length"):
            size = int(response.headers["Content-Length"])
        final_url = response.url
    finally:
        response.close()
    protocol = "https" if final_url.startswith("https:") else "http"
    return RemoteMedia(url=final_url, protocol=protocol, size=size, ranged=ranged)


def _refused(reason: str) -> PermanentDownloadError:
    return PermanentDownloadError(f"A hoster address was refused by the outbound policy: {reason}")


def open_session(source: MediaSource, options: EngineOptions, gate: CancelGate) -> YoutubeDL:
    """A yt-dlp instance confined by the outbound policy whose every request first checks the cancel gate."""
    ydl = YoutubeDL(_base_params(options, options.connections))
    policy = OutboundPolicy(allow_list(options.allowed_hosts))
    confine(ydl, policy)
    original_urlopen = ydl.urlopen

    def urlopen_checked(request: Any) -> Any:
        gate.check()
        try:
            split_host(request if isinstance(request, str) else request.url)  # the scheme, readably
            return original_urlopen(request)
        except RefusedByPolicy as refused:
            raise _refused(str(refused.msg)) from refused
        except HosterRefused as refused:
            raise _refused(str(refused)) from refused
        except HosterError as error:
            raise TransientDownloadError(f"The hoster's address does not resolve: {error}") from error

    ydl.urlopen = urlopen_checked  # type: ignore[method-assign]

    def hook(status: dict[str, Any]) -> None:
        if status.get("status") != "downloading":
            return
        total = status.get("total_bytes") or status.get("total_bytes_estimate")
        gate.report(
            int(status.get("downloaded_bytes") or 0),
            int(total) if total else None,
            status.get("speed"),
            status.get("eta"),
        )

    ydl.add_progress_hook(hook)
    return ydl


def transfer(
    ydl: YoutubeDL,
    source: MediaSource,
    remote: RemoteMedia,
    name: Path,
    item_id: int | str,
    options: EngineOptions,
    gate: CancelGate,
    on_parallel_refused: Callable[[int], None] | None = None,
) -> None:
    """Download into ``name`` (via ``name.part``); resumes from what is on disk."""
    info: dict[str, Any] = {
        "id": str(item_id),
        "url": remote.url,
        "ext": "mp4" if remote.protocol != "m3u8_native" else "ts",
        "protocol": remote.protocol,
        "http_headers": _headers(source),
    }
    if remote.playlist is not None:
        info["hls_media_playlist_data"] = remote.playlist
        if not ydl.dl(str(name), info):
            raise TransientDownloadError("The download stopped without an error message (see logs/download.log).")
        return
    part = name.with_name(f"{name.name}.part")
    if options.connections > 1 and remote.ranged and remote.size and remote.size > options.range_chunk:
        try:
            download_ranges(
                ydl.urlopen,
                remote.url,
                _headers(source),
                part,
                remote.size,
                connections=options.connections,
                chunk=options.range_chunk,
                retries=options.fragment_retries,
                rate_limit=options.rate_limit,
                report=gate.report,
                uncapped_speed=options.uncapped_speed,
            )
            part.rename(name)
            return
        except ParallelRangesRefused as refused:
            logger.info("item %s: %s refused parallel ranges (%s); one connection", item_id, source.hoster, refused)
            after_refusal(part)
            _single_connection(ydl, name, info, options, patient=True)
            # told only now: a 403 that one connection gets too is an expired link, not a ban on parallel ranges
            if on_parallel_refused is not None:
                on_parallel_refused(refused.status)
            return
    after_refusal(part)  # a ranged attempt's .part (before a setting changed) continues as a prefix
    _single_connection(ydl, name, info, options, patient=False)


def _run(downloader: Any, ydl: YoutubeDL, name: Path, info: dict[str, Any]) -> None:
    for hook in ydl._progress_hooks:
        downloader.add_progress_hook(hook)
    success, _ = downloader.download(str(name), info)
    if not success:
        raise TransientDownloadError("The download stopped without an error message (see logs/download.log).")


def _single_connection(ydl: YoutubeDL, name: Path, info: dict[str, Any], options: EngineOptions, patient: bool) -> None:
    """yt-dlp's HTTP downloader, ``Range`` from the ``.part`` size.

    ``patient`` after a refusal of parallel ranges: the hoster may still count the
    connections that are closing, so its 429/403 is retried a few times with a pause.
    """
    single = {**ydl.params, "ratelimit": options.rate_limit, "concurrent_fragment_downloads": 1}
    pauses = [1.0, 2.0, 4.0] if patient else []
    while True:
        try:
            _run(HttpFD(ydl, single), ydl, name, info)
            return
        except HTTPError as error:
            if error.status not in PARALLEL_REFUSED_STATUSES or not pauses:
                raise
            time.sleep(pauses.pop(0))
