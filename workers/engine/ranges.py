"""A plain file over several connections: byte ranges written in place into ``<item-id>.part``.

Hosters cap the speed of each connection. The file is cut into ranges
(``EngineOptions.range_chunk``) that ``connections`` threads fetch at once, each
written at its own offset (``os.pwrite``: no fragment files, no second copy).
Every request goes through the session's ``urlopen`` and so through the
outbound policy and the cancel gate.

A hoster that does not cap (one connection faster than
:data:`UNCAPPED_BYTES_PER_SECOND`, measured on the first range) gets one
connection in larger ranges: more would only cost CPU.

Resume: ``<item-id>.ranges`` holds the length of the prefix of ``.part`` that
is complete (every range below it arrived). It is written before the first
range and advanced as ranges complete in order; a restarted attempt (after a
stop or kill -9) cuts ``.part`` back to that prefix and continues, so ranges
that were in flight are fetched again and nothing else. A ``.part`` without
``.ranges`` was written by one connection and is a prefix as it is.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from yt_dlp.networking import Request
from yt_dlp.networking.exceptions import HTTPError, TransportError

from workers.engine.errors import TransientDownloadError

PARALLEL_REFUSED_STATUSES = frozenset({403, 429})
READ_BYTES = 1024 * 1024
# One connection at least this fast is not capped by the hoster: more would only cost CPU.
UNCAPPED_BYTES_PER_SECOND = 40_000_000
UNCAPPED_RANGE_BYTES = 64 * 1024 * 1024  # ranges while one connection is enough (the ledger's step)


class ParallelRangesRefused(Exception):
    """The hoster answered a parallel range request with 429/403: go on over one connection."""

    def __init__(self, status: int):
        super().__init__(f"HTTP {status} to parallel range requests")
        self.status = status


def split_ranges(start: int, size: int, chunk: int) -> list[tuple[int, int]]:
    """Byte ranges ``[first, end)`` of at most ``chunk`` bytes that cover ``start`` up to ``size``."""
    if chunk <= 0:
        raise ValueError("chunk must be positive")
    return [(first, min(first + chunk, size)) for first in range(start, size, chunk)]


def ledger_path(part: Path) -> Path:
    return part.with_suffix(".ranges")


def complete_prefix(part: Path) -> int:
    """Bytes at the start of ``part`` that are known to be complete (see the module docstring)."""
    if not part.is_file():
        return 0
    ledger = ledger_path(part)
    if not ledger.is_file():
        return part.stat().st_size
    try:
        return min(int(ledger.read_text().strip() or 0), part.stat().st_size)
    except ValueError:
        return 0


class _Ledger:
    """Advances the complete prefix as ranges finish (in any order) and writes it down."""

    def __init__(self, path: Path, start: int):
        self.path = path
        self.prefix = start
        self._finished: dict[int, int] = {}
        self._lock = threading.Lock()
        self._write(start)

    def _write(self, value: int) -> None:
        self.path.write_text(f"{value}\n")

    def finished(self, first: int, end: int) -> None:
        with self._lock:
            self._finished[first] = end
            advanced = self.prefix
            while advanced in self._finished:
                advanced = self._finished.pop(advanced)
            if advanced != self.prefix:
                self.prefix = advanced
                self._write(advanced)


class _Progress:
    def __init__(self, done: int, total: int, report: Callable[[int, int, float | None, float | None], None]):
        self.done = done
        self.total = total
        self._report = report
        self._started = time.monotonic()
        self._start_done = done
        self._last = 0.0
        self._lock = threading.Lock()

    def add(self, count: int, force: bool = False) -> None:
        with self._lock:
            self.done += count
            now = time.monotonic()
            if not force and now - self._last < 0.2:
                return
            self._last = now
            elapsed = now - self._started
            speed = (self.done - self._start_done) / elapsed if elapsed > 0 else None
            eta = (self.total - self.done) / speed if speed else None
            self._report(self.done, self.total, speed, eta)


def download_ranges(
    urlopen: Callable[[Request], Any],
    url: str,
    headers: dict[str, str],
    part: Path,
    size: int,
    *,
    connections: int,
    chunk: int,
    retries: int,
    rate_limit: int | None,
    report: Callable[[int, int, float | None, float | None], None],
    uncapped_speed: float | None = UNCAPPED_BYTES_PER_SECOND,
) -> None:
    """Fetch ``url`` (``size`` bytes) into ``part``; resumes from the ledger.

    The first range comes alone and measures one connection: at least
    ``uncapped_speed`` bytes/s means the hoster does not cap it, and the file
    goes on over one connection in larger ranges (cheaper than many), measured
    again after each; slower, and the rest comes over ``connections``
    connections at once. None: always split.

    Raises :class:`ParallelRangesRefused` when the hoster refuses parallel
    ranges (``part`` then holds a complete prefix; :func:`after_refusal` drops
    the ledger for one connection), and the request's own errors otherwise.
    """
    start = complete_prefix(part)
    descriptor = os.open(part, os.O_RDWR | os.O_CREAT, 0o644)  # not O_APPEND: pwrite must honour its offset
    try:
        os.ftruncate(descriptor, start)
        run = _Run(urlopen, url, headers, descriptor, _Ledger(ledger_path(part), start), retries, rate_limit)
        run.progress = _Progress(start, size, report)
        position = start
        single = uncapped_speed is not None or connections <= 1
        span = chunk
        while position < size and single:
            end = min(position + span, size)
            speed = run.ranges([(position, end)], 1)
            position = end
            single = connections <= 1 or (uncapped_speed is not None and speed >= uncapped_speed)
            span = UNCAPPED_RANGE_BYTES
        if position < size:
            run.ranges(split_ranges(position, size, chunk), connections)
        run.progress.add(0, force=True)
    finally:
        os.close(descriptor)
    if run.ledger.prefix != size:
        raise TransientDownloadError(f"The transfer was cut short: {run.ledger.prefix} of {size} bytes arrived.")
    ledger_path(part).unlink(missing_ok=True)


class _Run:
    """The shared state of one file's ranges: where they are written, the ledger, progress and retries."""

    def __init__(
        self,
        urlopen: Callable[[Request], Any],
        url: str,
        headers: dict[str, str],
        descriptor: int,
        ledger: _Ledger,
        retries: int,
        rate_limit: int | None,
    ):
        self.urlopen = urlopen
        self.url = url
        self.headers = headers
        self.descriptor = descriptor
        self.ledger = ledger
        self.retries = retries
        self.rate_limit = rate_limit
        self.progress: _Progress

    def ranges(self, ranges: list[tuple[int, int]], connections: int) -> float:
        """Fetch ``ranges`` over ``connections`` connections; returns the bytes per second they came at."""
        stop = threading.Event()
        per_connection = max(1, self.rate_limit // connections) if self.rate_limit else None
        parallel = connections > 1 and len(ranges) > 1

        def fetch(first: int, end: int) -> None:
            cursor = [first]  # how far this range got: a retry continues from there
            for attempt in range(self.retries + 1):
                if stop.is_set():
                    return
                try:
                    _fetch_range(self, cursor, end, stop, per_connection)
                    if cursor[0] == end:
                        self.ledger.finished(first, end)
                    return
                except HTTPError as error:
                    if parallel and error.status in PARALLEL_REFUSED_STATUSES:
                        stop.set()
                        raise ParallelRangesRefused(error.status) from error
                    if error.status < 500 or attempt == self.retries:
                        raise
                except TransportError:
                    if attempt == self.retries:
                        raise
                time.sleep(min(0.5 * 2**attempt, 5.0))

        started = time.monotonic()
        pool = ThreadPoolExecutor(max_workers=max(1, connections), thread_name_prefix="range")
        try:
            futures = [pool.submit(fetch, first, end) for first, end in ranges]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failed = [future for future in done if future.exception() is not None]
            if failed:
                raise failed[0].exception()  # type: ignore[misc]
        finally:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
        elapsed = max(time.monotonic() - started, 1e-6)
        return sum(end - first for first, end in ranges) / elapsed


def after_refusal(part: Path) -> None:
    """Leave ``part`` as one connection expects it: the complete prefix only, no ledger."""
    if part.is_file():
        prefix = complete_prefix(part)
        with open(part, "r+b") as stream:
            stream.truncate(prefix)
    ledger_path(part).unlink(missing_ok=True)


def _fetch_range(run: _Run, cursor: list[int], end: int, stop: threading.Event, bytes_per_second: int | None) -> None:
    """Fetch ``[cursor[0], end)`` and write it in place, advancing ``cursor[0]`` as bytes land."""
    position = cursor[0]
    response = run.urlopen(Request(run.url, headers={**run.headers, "Range": f"bytes={position}-{end - 1}"}))
    try:
        content_range = response.headers.get("Content-Range", "")
        if response.status != 206 or not content_range.startswith(f"bytes {position}-"):
            raise TransientDownloadError(
                f"The hoster answered a range request with HTTP {response.status} ({content_range or 'no range'})."
            )
        started = time.monotonic()
        fetched = 0
        while position < end:
            if stop.is_set():
                return
            data = response.read(min(READ_BYTES, end - position))
            if not data:
                raise TransportError(f"connection closed {end - position} bytes before the end of a range")
            os.pwrite(run.descriptor, data, position)
            position += len(data)
            cursor[0] = position
            fetched += len(data)
            run.progress.add(len(data))
            if bytes_per_second:
                ahead = fetched / bytes_per_second - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
    finally:
        response.close()
