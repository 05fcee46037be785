"""Benchmark: the download engine against curl, the yt-dlp CLI and aria2c, on files served on loopback.

Run standalone: ``.venv/bin/python bench/bench_download.py [--size-mib 1024] [--runs 3]``.
It makes a real MP4 with ffmpeg (a short high-bitrate clip looped with
``-c copy`` up to ``--size-mib``), serves it from the test media server
(tests/queue/media_server.py: Range support, optional per-connection cap) in
its own process, as a hoster is (in this process it would share the engine's
interpreter lock), and measures, ``--runs`` times each, in this invocation:

1. the plain file on an uncapped loopback: curl, the engine's transfer alone
   (until the last byte is on disk) and the engine end to end (transfer, MP4
   kept and tagged in place, verify, move into the library);
2. a hoster that caps each connection (``--cap-mbps`` MB/s per connection) with
   a ``--capped-size-mib`` file, plain and as HLS (2-second MPEG-TS segments):
   curl (one connection; for HLS one curl fetching the segments in order), the
   engine (``--connections`` parallel ranges / fragments), ``yt-dlp -N 8`` and
   ``aria2c -x8`` (``-j8`` over the segment list for HLS) when installed.

Prints min / median and throughput; ratios are medians of times (tool / curl,
below 1.0 is faster). Writes the "downloads - ..." sections of bench/RESULTS.md
through bench/results.py. No Django, database or Redis is needed.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from apps.catalog.types import MediaKind, MediaSource  # noqa: E402
from bench.results import load_average, record, summarize  # noqa: E402
from tests.queue.media_server import MediaServer, Scenario  # noqa: E402
from workers.engine import DownloadRequest, EngineOptions, download  # noqa: E402
from workers.engine.ffmpeg import ffmpeg_executable  # noqa: E402

YT_DLP = Path(sys.executable).with_name("yt-dlp")
MB = 1_000_000


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_executable(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def make_mp4(directory: Path, name: str, size_mib: int) -> Path:
    """A real MP4 of at least ``size_mib`` MiB: a 10 s 720p clip at 40 Mbit/s, looped without re-encoding."""
    clip = directory / "clip.mp4"
    if not clip.exists():
        _ffmpeg(
            *("-f", "lavfi", "-i", "testsrc2=duration=10:size=1280x720:rate=25"),
            *("-f", "lavfi", "-i", "sine=frequency=440:duration=10"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-b:v", "40M", "-g", "50", "-pix_fmt", "yuv420p"),
            *("-c:a", "aac", "-shortest", str(clip)),
        )
    loops = max(1, math.ceil(size_mib * 1024 * 1024 / clip.stat().st_size))
    target = directory / name
    _ffmpeg("-stream_loop", str(loops - 1), "-i", str(clip), "-c", "copy", "-movflags", "+faststart", str(target))
    return target


def make_hls(mp4: Path, directory: Path) -> Path:
    directory.mkdir()
    _ffmpeg(
        *("-i", str(mp4), "-c", "copy", "-f", "hls", "-hls_time", "2", "-hls_list_size", "0"),
        *("-hls_playlist_type", "vod", "-hls_segment_filename", str(directory / "seg%04d.ts")),
        str(directory / "index.m3u8"),
    )
    return directory / "index.m3u8"


@contextlib.contextmanager
def serving(root: Path, bytes_per_second: int | None):
    """The media server in a child process (``--serve``); yields its base URL."""
    command = [sys.executable, __file__, "--serve", str(root)]
    if bytes_per_second:
        command += ["--serve-cap", str(bytes_per_second)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def serve(root: Path, bytes_per_second: int | None) -> None:
    """Run the media server until terminated (the parent reads the port from the first line)."""
    server = MediaServer(root, Scenario(bytes_per_second=bytes_per_second)).start()
    print(server.port, flush=True)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    server.stop()


def timed(runs: int, action: Callable[[int], float | None]) -> list[float]:
    """Seconds of each run (``action`` may return its own measurement, e.g. the transfer part of a run)."""
    samples = []
    for run in range(runs):
        started = time.perf_counter()
        measured = action(run)
        samples.append(measured if measured is not None else time.perf_counter() - started)
    return samples


class Bench:
    def __init__(self, work: Path, connections: int):
        self.work = work
        self.connections = connections
        self.allowed_host = ""
        self.out = work / "out"
        self.library = work / "library"

    def fresh_out(self) -> Path:
        shutil.rmtree(self.out, ignore_errors=True)
        shutil.rmtree(self.library, ignore_errors=True)
        self.out.mkdir()
        return self.out

    def engine(self, kind: MediaKind, url: str, transfer_only: list[float] | None = None) -> Callable[[int], None]:
        def run(index: int) -> None:
            self.fresh_out()
            finished: list[float] = []
            started = time.perf_counter()

            def progress(done: int, total: int | None, speed: float | None, eta: float | None) -> None:
                if total and done >= total and not finished:
                    finished.append(time.perf_counter() - started)

            download(
                DownloadRequest(
                    item_id=f"{kind.value}{index}",
                    source=MediaSource(url=url, kind=kind, hoster="bench"),
                    target=self.library / "Show" / f"Show - S01E{index + 1:02d}.mkv",
                    library_root=self.library,
                    language="de",
                ),
                progress,
                EngineOptions(connections=self.connections, allowed_hosts=frozenset({self.allowed_host})),
            )
            if transfer_only is not None and finished:
                transfer_only.append(finished[0])

        return run

    def command(self, *argv: str) -> Callable[[int], None]:
        def run(_index: int) -> None:
            out = self.fresh_out()
            subprocess.run([part.replace("{out}", str(out)) for part in argv], check=True, cwd=out)

        return run

    def curl_all(self, urls: list[str]) -> Callable[[int], None]:
        """One curl fetching every URL in order over one reused connection."""

        def run(_index: int) -> None:
            out = self.fresh_out()
            arguments = []
            for number, url in enumerate(urls):
                arguments += ["-o", str(out / f"{number:05d}"), url]
            subprocess.run(["curl", "-sS", "-f", *arguments], check=True)

        return run

    def aria2_list(self, urls: list[str]) -> Callable[[int], None]:
        def run(_index: int) -> None:
            out = self.fresh_out()
            listing = self.work / "aria2-input.txt"
            listing.write_text("".join(f"{url}\n  out={number:05d}\n" for number, url in enumerate(urls)))
            subprocess.run(["aria2c", "-q", "-j8", "-x1", "-d", str(out), "-i", str(listing)], check=True)

        return run


def row(name: str, samples: list[float], baseline: list[float] | None, size: int, baseline_name: str = "curl"):
    result = summarize(name, samples, baseline, unit="s", baseline_name=baseline_name)
    result["throughput (median)"] = f"{size / statistics.median(samples) / MB:.1f} MB/s"
    return result


def show(rows: list[dict]) -> None:
    for entry in rows:
        print(f"  {entry['benchmark']:48s} {entry['min / median']:>18s}  {entry['throughput (median)']:>12s}", end="")
        print(f"  ratio {entry['ratio']}" if "ratio" in entry else "")


def measure_loopback(
    bench: Bench, args: argparse.Namespace, url: str, size: int, ytdlp: str | None, load: str
) -> list[dict]:
    print(f"plain file: {size / MB:.0f} MB MP4 on loopback; {args.runs} runs each; load {load}")
    curl = timed(args.runs, bench.command("curl", "-sS", "-f", "-o", "{out}/file.mp4", url))
    transfer: list[float] = []
    end_to_end = timed(args.runs, bench.engine(MediaKind.FILE, url, transfer))
    loopback = [row("curl", curl, None, size)]
    if ytdlp:
        cli = timed(args.runs, bench.command(ytdlp, "-q", "--no-warnings", "--no-progress", "-o", "{out}/y.mp4", url))
        loopback.append(row("yt-dlp CLI", cli, curl, size))
    loopback += [
        row("engine transfer", transfer, curl, size),
        row("engine end to end (transfer, tag, verify, move)", end_to_end, curl, size),
    ]
    show(loopback)
    return loopback


def measure_capped(
    bench: Bench,
    args: argparse.Namespace,
    base: str,
    capped: Path,
    playlist: Path,
    segments: list[str],
    ytdlp: str | None,
    aria2: str | None,
) -> list[dict]:
    capped_size = capped.stat().st_size
    hls_size = sum((playlist.parent / name).stat().st_size for name in segments)
    capped_url = f"{base}/{capped.name}"
    hls_url = f"{base}/hls/{playlist.name}"
    segment_urls = [f"{base}/hls/{name}" for name in segments]
    print(f"capped hoster: {args.cap_mbps:g} MB/s per connection; {capped_size / MB:.0f} MB plain, HLS copy")
    curl_plain = timed(args.runs, bench.command("curl", "-sS", "-f", "-o", "{out}/file.mp4", capped_url))
    capped_rows = [
        row("plain: curl", curl_plain, None, capped_size),
        row(
            f"plain: engine ({args.connections} connections)",
            timed(args.runs, bench.engine(MediaKind.FILE, capped_url)),
            curl_plain,
            capped_size,
        ),
    ]
    if ytdlp:
        ytdlp_plain = bench.command(ytdlp, "-q", "--no-warnings", "-N", "8", "-o", "{out}/y.mp4", capped_url)
        capped_rows.append(row("plain: yt-dlp -N 8", timed(args.runs, ytdlp_plain), curl_plain, capped_size))
    if aria2:
        aria2_plain = bench.command(aria2, "-q", "-x8", "-s8", "-k1M", "-d", "{out}", "-o", "a.mp4", capped_url)
        capped_rows.append(row("plain: aria2c -x8", timed(args.runs, aria2_plain), curl_plain, capped_size))
    curl_hls = timed(args.runs, bench.curl_all(segment_urls))
    capped_rows += [
        row("HLS: curl (segments in order, one connection)", curl_hls, None, hls_size),
        row(
            f"HLS: engine ({args.connections} fragments, remux)",
            timed(args.runs, bench.engine(MediaKind.HLS, hls_url)),
            curl_hls,
            hls_size,
        ),
    ]
    if ytdlp:
        ytdlp_hls = bench.command(ytdlp, "-q", "--no-warnings", "-N", "8", "-o", "{out}/y.%(ext)s", hls_url)
        capped_rows.append(row("HLS: yt-dlp -N 8", timed(args.runs, ytdlp_hls), curl_hls, hls_size))
    if aria2:
        capped_rows.append(
            row("HLS: aria2c -j8 (segments)", timed(args.runs, bench.aria2_list(segment_urls)), curl_hls, hls_size)
        )
    show(capped_rows)
    return capped_rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="plain file on loopback (default 1024)")
    parser.add_argument("--capped-size-mib", type=int, default=48, help="file behind the cap (default 48)")
    parser.add_argument("--cap-mbps", type=float, default=5.0, help="MB/s per connection of the capped hoster")
    parser.add_argument("--connections", type=int, default=EngineOptions().connections)
    parser.add_argument("--runs", type=int, default=3, help="runs of each tool (default 3)")
    parser.add_argument("--no-record", action="store_true", help="print only; leave bench/RESULTS.md alone")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--serve-cap", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.serve_cap)
        return 0
    if not shutil.which("curl"):
        print("curl is not installed; cannot run the baseline")
        return 1
    aria2 = shutil.which("aria2c")
    ytdlp = str(YT_DLP) if YT_DLP.exists() else shutil.which("yt-dlp")

    work = Path(tempfile.mkdtemp(prefix="aniworld-bench-download-"))
    try:
        media = work / "media"
        media.mkdir()
        big = make_mp4(media, "big.mp4", args.size_mib)
        capped = make_mp4(media, "capped.mp4", args.capped_size_mib)
        playlist = make_hls(capped, media / "hls")
        segments = sorted(p.name for p in playlist.parent.glob("*.ts"))
        bench = Bench(work, args.connections)
        load_before = load_average()

        # 1. the plain file on loopback, no cap
        size = big.stat().st_size
        with serving(media, None) as base:
            bench.allowed_host = base.removeprefix("http://")
            loopback = measure_loopback(bench, args, f"{base}/{big.name}", size, ytdlp, load_before)

        # 2. a hoster that caps each connection
        cap = int(args.cap_mbps * MB)
        with serving(media, cap) as base:
            bench.allowed_host = base.removeprefix("http://")
            capped_rows = measure_capped(bench, args, base, capped, playlist, segments, ytdlp, aria2)

        missing = "" if aria2 else " aria2c is not installed on this machine: its rows are missing."
        notes_common = (
            f"Load average before: {load_before}. {os.cpu_count()} cores shared with other work; figures from a "
            f"loaded machine are lower bounds.{missing}"
        )
        if not args.no_record:
            record(
                "downloads - plain file on loopback",
                loopback,
                f"{size / MB:.0f} MB MP4 served by tests/queue/media_server.py (its own process) on loopback, no cap. "
                f"The engine measures one connection on the first range and, finding it uncapped, keeps one "
                f"connection. Its transfer ends when the last byte is on disk; end to end adds the in-place language tag, the "
                f"checks (structure, ffprobe duration) and the move into the library (no remux: the MP4 is kept). "
                f"Ratio = median time / curl's median time (lower is faster). {notes_common}",
            )
            record(
                "downloads - per-connection cap",
                capped_rows,
                f"Every connection capped at {args.cap_mbps:g} MB/s by the server (a hoster's throttle). Plain: "
                f"{capped.stat().st_size / MB:.0f} MB MP4; HLS: the same streams in {len(segments)} MPEG-TS "
                f"segments of 2 s. Plain rows compare with one curl; HLS rows with one curl fetching the "
                f"segments in order. The engine's HLS time includes the remux into Matroska. {notes_common}",
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
