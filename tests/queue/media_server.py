"""A small threaded HTTP server for engine tests and the download benchmark.

Serves files from a directory with HTTP Range support and scenario switches:
fail the first N requests of a path with a status, cut a transfer short,
require a header, throttle each connection (a hoster's per-connection cap),
refuse parallel transfers of one path (a hoster that bans them), and record
every request, the connections opened and the peak number of concurrent
transfers. Bodies are read from disk as they are sent, so a 1 GiB file costs
no memory (the download benchmark uses this server too).
"""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from workers.engine.ffmpeg import ffmpeg_executable


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up mid-transfer (cancel tests, yt-dlp retries) are expected here."""


@dataclass
class Scenario:
    fail_first: int = 0  # answer the first N requests with `fail_status`
    fail_status: int = 503
    truncate_after: int | None = None  # close the connection after this many body bytes ...
    truncate_times: int = 1  # ... on this many requests
    require_headers: dict[str, str] = field(default_factory=dict)
    bytes_per_second: int | None = None  # per request, i.e. per connection
    max_parallel: int | None = None  # answer `parallel_status` while this many transfers of the path run
    parallel_status: int = 429
    ignore_range: bool = False
    status: int | None = None  # always answer this status (e.g. 404)
    redirect_to: str | None = None  # answer 302 with this Location


@dataclass
class RecordedRequest:
    path: str
    range: str | None
    status: int


class MediaServer:
    def __init__(self, root: Path, default: Scenario | None = None):
        self.root = Path(root)
        self.scenarios: dict[str, Scenario] = {}
        self.default = default or Scenario()  # for every path without a scenario of its own
        self.requests: list[RecordedRequest] = []
        self._counts: dict[str, int] = {}
        self._truncations: dict[str, int] = {}
        self._lock = threading.Lock()
        self.active = 0
        self.peak_active = 0
        self.connections = 0  # TCP connections accepted
        self._active_by_path: dict[str, int] = {}
        self._server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    @property
    def allowed_host(self) -> str:
        """The allow-list entry that trusts this server (and no other port on 127.0.0.1)."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> MediaServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def requests_for(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == "/" + path.lstrip("/")]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with server._lock:
                    server.connections += 1

            def log_message(self, format: str, *args: object) -> None:
                return

            def _record(self, status: int) -> None:
                with server._lock:
                    server.requests.append(RecordedRequest(self.path, self.headers.get("Range"), status))

            def _error(self, status: int) -> None:
                self._record(status)
                body = f"error {status}".encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                scenario = server.scenarios.get(path.lstrip("/"), server.default)
                with server._lock:
                    count = server._counts.get(path, 0) + 1
                    server._counts[path] = count
                if scenario.status:
                    return self._error(scenario.status)
                if scenario.redirect_to:
                    self._record(302)
                    self.send_response(302)
                    self.send_header("Location", scenario.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if count <= scenario.fail_first:
                    return self._error(scenario.fail_status)
                for name, value in scenario.require_headers.items():
                    if self.headers.get(name) != value:
                        return self._error(403)
                file = (server.root / path.lstrip("/")).resolve()
                if not file.is_file() or server.root.resolve() not in file.parents:
                    return self._error(404)
                size = file.stat().st_size
                start, end, status = 0, size - 1, 200
                range_header = self.headers.get("Range")
                if range_header and range_header.startswith("bytes=") and not scenario.ignore_range:
                    first, _, last = range_header[6:].partition("-")
                    start = int(first) if first else 0
                    end = min(int(last), size - 1) if last else size - 1
                    if start >= size:
                        self._record(416)
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{size}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    status = 206
                length = end + 1 - start
                with server._lock:
                    running = server._active_by_path.get(path, 0)
                    refuse = scenario.max_parallel is not None and running >= scenario.max_parallel
                    if not refuse:
                        server._active_by_path[path] = running + 1
                if refuse:
                    return self._error(scenario.parallel_status)
                try:
                    self._serve(file, path, scenario, status, start, end, length, size)
                finally:
                    with server._lock:
                        server._active_by_path[path] -= 1

            def _serve(
                self,
                file: Path,
                path: str,
                scenario: Scenario,
                status: int,
                start: int,
                end: int,
                length: int,
                size: int,
            ) -> None:
                self._record(status)
                self.send_response(status)
                content_type = "application/vnd.apple.mpegurl" if path.endswith(".m3u8") else "video/mp4"
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(length))
                self.send_header("Accept-Ranges", "bytes")
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
                self.end_headers()
                limit = length
                with server._lock:
                    truncations = server._truncations.get(path, 0)
                    cut = scenario.truncate_after is not None and scenario.truncate_after < length
                    if cut and truncations < scenario.truncate_times:
                        server._truncations[path] = truncations + 1
                        limit = min(limit, scenario.truncate_after)
                    server.active += 1
                    server.peak_active = max(server.peak_active, server.active)
                try:
                    self._send(file, start, limit, scenario.bytes_per_second)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with server._lock:
                        server.active -= 1
                if limit < length:
                    self.close_connection = True

            def _send(self, file: Path, start: int, length: int, bytes_per_second: int | None) -> None:
                chunk = 256 * 1024 if not bytes_per_second else max(1024, bytes_per_second // 20)
                with open(file, "rb") as stream:
                    stream.seek(start)
                    remaining = length
                    while remaining > 0:
                        data = stream.read(min(chunk, remaining))
                        if not data:
                            return
                        if bytes_per_second:  # pace before sending: the transfer ends with its last byte
                            time.sleep(len(data) / bytes_per_second)
                        self.wfile.write(data)
                        remaining -= len(data)

        return Handler


def make_mp4(path: Path, seconds: int = 6, size: str = "320x240") -> Path:
    """A small real MP4 (H.264 + AAC, moov at the front) made by ffmpeg."""
    subprocess.run(
        [
            ffmpeg_executable(),
            *("-hide_banner", "-loglevel", "error", "-y"),
            *("-f", "lavfi", "-i", f"testsrc=duration={seconds}:size={size}:rate=25"),
            *("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25"),
            *("-c:a", "aac", "-b:a", "64k", "-shortest", "-movflags", "+faststart"),
            *("-fflags", "+bitexact", str(path)),
        ],
        check=True,
    )
    return path


def remux_copy(source: Path, destination: Path, container: str) -> Path:
    """The same streams in another container (``matroska``, ``mpegts``)."""
    subprocess.run(
        [
            ffmpeg_executable(),
            *("-hide_banner", "-loglevel", "error", "-y", "-i", str(source), "-map", "0", "-c", "copy"),
            *("-fflags", "+bitexact", "-f", container, str(destination)),
        ],
        check=True,
    )
    return destination


def make_hls(directory: Path, seconds: int = 6) -> Path:
    """An HLS stream (media playlist + 1-second MPEG-TS segments) and a master playlist; returns the master."""
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            ffmpeg_executable(),
            *("-hide_banner", "-loglevel", "error", "-y"),
            *("-f", "lavfi", "-i", f"testsrc=duration={seconds}:size=320x240:rate=25"),
            *("-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25"),
            *("-c:a", "aac", "-b:a", "64k", "-shortest"),
            *("-f", "hls", "-hls_time", "1", "-hls_list_size", "0", "-hls_playlist_type", "vod"),
            *("-hls_segment_filename", str(directory / "seg%03d.ts"), str(directory / "media.m3u8")),
        ],
        check=True,
    )
    master = directory / "master.m3u8"
    master.write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=160x120\nlow.m3u8\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=320x240\nmedia.m3u8\n"
    )
    return master
