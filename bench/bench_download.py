"""Benchmark: the download engine against the yt-dlp CLI and curl, on the same file served on loopback.

Run standalone: ``.venv/bin/python bench/bench_download.py [--seconds 30] [--runs 3]``.
It makes a real MP4 (and an HLS copy of it) with ffmpeg, serves both from a
local HTTP server with Range support, and times, best of ``--runs``:

* the engine (transfer + remux to Matroska + verify + atomic move), and its transfer alone,
* ``yt-dlp`` (the CLI in the venv), and
* ``curl``,

then prints the ratios (engine / baseline; below 1.0 means the engine is faster).
No Django, database or Redis is needed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from apps.catalog.types import MediaKind, MediaSource  # noqa: E402
from tests.queue.media_server import MediaServer, ffmpeg  # noqa: E402
from workers.engine import DownloadRequest, EngineOptions, download  # noqa: E402

YT_DLP = PROJECT_ROOT / ".venv" / "bin" / "yt-dlp"


def make_media(directory: Path, seconds: int) -> tuple[Path, Path]:
    """A high-bitrate 720p MP4 and an HLS copy (2-second segments) of the same streams."""
    mp4 = directory / "episode.mp4"
    subprocess.run(
        [
            ffmpeg(),
            *("-hide_banner", "-loglevel", "error", "-y"),
            *("-f", "lavfi", "-i", f"testsrc2=duration={seconds}:size=1280x720:rate=25"),
            *("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-b:v", "20M", "-g", "50", "-pix_fmt", "yuv420p"),
            *("-c:a", "aac", "-shortest", "-movflags", "+faststart", str(mp4)),
        ],
        check=True,
    )
    hls = directory / "hls"
    hls.mkdir()
    subprocess.run(
        [
            ffmpeg(),
            *("-hide_banner", "-loglevel", "error", "-y", "-i", str(mp4), "-c", "copy"),
            *("-f", "hls", "-hls_time", "2", "-hls_list_size", "0", "-hls_playlist_type", "vod"),
            *("-hls_segment_filename", str(hls / "seg%04d.ts"), str(hls / "index.m3u8")),
        ],
        check=True,
    )
    return mp4, hls / "index.m3u8"


def best_of(runs: int, action: Callable[[int], float | None]) -> float:
    times = []
    for run in range(runs):
        started = time.perf_counter()
        measured = action(run)
        times.append(measured if measured is not None else time.perf_counter() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30, help="length of the generated video (default 30)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each tool; the best counts (default 3)")
    parser.add_argument("--fragments", type=int, default=4, help="parallel HLS fragments (default 4)")
    args = parser.parse_args()
    if not shutil.which("curl"):
        print("curl is not installed; cannot run the baseline")
        return 1

    work = Path(tempfile.mkdtemp(prefix="aniworld-bench-download-"))
    try:
        media = work / "media"
        media.mkdir()
        mp4, playlist = make_media(media, args.seconds)
        size = mp4.stat().st_size
        server = MediaServer(media).start()
        file_url, hls_url = server.url(mp4.name), server.url(playlist.relative_to(media).as_posix())
        library = work / "library"
        out = work / "out"
        out.mkdir()
        transfer_seconds: list[float] = []

        def engine(kind: MediaKind, url: str) -> Callable[[int], None]:
            def run(index: int) -> None:
                first_tick: list[float] = []
                started = time.perf_counter()

                def progress(done: int, total: int | None, speed: float | None, eta: float | None) -> None:
                    if total and done >= total and not first_tick:
                        first_tick.append(time.perf_counter() - started)

                request = DownloadRequest(
                    item_id=f"{kind.value}{index}",
                    source=MediaSource(url=url, kind=kind, hoster="bench"),
                    target=library / f"{kind.value}-{index}.mkv",
                    library_root=library,
                    language="de",
                )
                download(request, progress, EngineOptions(concurrent_fragments=args.fragments))
                if first_tick:
                    transfer_seconds.append(first_tick[0])

            return run

        def yt_dlp(url: str, extra: list[str]) -> Callable[[int], None]:
            def run(index: int) -> None:
                target = out / f"ytdlp-{index}-{time.monotonic_ns()}.%(ext)s"
                subprocess.run(
                    [
                        str(YT_DLP),
                        "-q",
                        "--no-warnings",
                        "--no-progress",
                        "--no-cache-dir",
                        *extra,
                        "-o",
                        str(target),
                        url,
                    ],
                    check=True,
                )

            return run

        def curl(index: int) -> None:
            subprocess.run(["curl", "-sS", "-f", "-o", str(out / f"curl-{index}.mp4"), file_url], check=True)

        print(
            f"file: {size / 1e6:.1f} MB MP4 ({args.seconds} s of 720p), HLS copy in 2 s segments; best of {args.runs}"
        )
        results = {
            "engine, plain file (transfer+remux+verify)": best_of(args.runs, engine(MediaKind.FILE, file_url)),
        }
        engine_transfer = min(transfer_seconds) if transfer_seconds else None
        transfer_seconds.clear()
        results["yt-dlp CLI, plain file"] = best_of(args.runs, yt_dlp(file_url, []))
        results["curl, plain file"] = best_of(args.runs, curl)
        results["engine, HLS (transfer+remux+verify)"] = best_of(args.runs, engine(MediaKind.HLS, hls_url))
        results["yt-dlp CLI, HLS"] = best_of(
            args.runs, yt_dlp(hls_url, ["--concurrent-fragments", str(args.fragments)])
        )
        server.stop()

        for name, seconds in results.items():
            print(f"  {name:45s} {seconds:7.3f} s  {size / seconds / 1e6:8.1f} MB/s")
        if engine_transfer:
            print(f"  {'engine, plain file (transfer only)':45s} {engine_transfer:7.3f} s")
        file_engine = results["engine, plain file (transfer+remux+verify)"]
        print("ratios (engine / baseline, lower is better):")
        print(f"  plain file: engine / curl   = {file_engine / results['curl, plain file']:.2f}")
        print(f"  plain file: engine / yt-dlp = {file_engine / results['yt-dlp CLI, plain file']:.2f}")
        if engine_transfer:
            print(f"  plain file, transfer only: engine / curl = {engine_transfer / results['curl, plain file']:.2f}")
        print(
            f"  HLS: engine / yt-dlp        = "
            f"{results['engine, HLS (transfer+remux+verify)'] / results['yt-dlp CLI, HLS']:.2f}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
