"""Small real media made with ffmpeg: a 6-second 256x144 MP4 with an AAC track, and an HLS copy in 1-second segments.

Generated once into a cache directory under the system temp dir (keyed by a
version) and shared by every process of a test run; creation is atomic.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from struct import pack

from workers.engine.ffmpeg import ffmpeg_executable

MEDIA_VERSION = "v1"
DURATION_SECONDS = 6
WIDTH, HEIGHT = 256, 144
_lock = threading.Lock()


@dataclass(frozen=True)
class MediaFiles:
    mp4: Path
    hls_dir: Path

    @property
    def playlist(self) -> Path:
        return self.hls_dir / "index.m3u8"

    def segment(self, name: str) -> Path | None:
        path = self.hls_dir / name
        return path if path.suffix == ".ts" and path.is_file() and path.parent == self.hls_dir else None

    @property
    def segments(self) -> list[str]:
        return sorted((p.name for p in self.hls_dir.glob("*.ts")), key=lambda n: int("".join(filter(str.isdigit, n))))


def _run(args: list[str]) -> None:
    subprocess.run([ffmpeg_executable(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True, timeout=120)


def _generate(target: Path) -> None:
    mp4 = target / "video.mp4"
    hls = target / "hls"
    hls.mkdir(parents=True)
    _run(
        [
            *("-f", "lavfi", "-i", f"testsrc=size={WIDTH}x{HEIGHT}:rate=15:duration={DURATION_SECONDS}"),
            *("-f", "lavfi", "-i", f"sine=frequency=440:duration={DURATION_SECONDS}"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "15", "-keyint_min", "15"),
            *("-sc_threshold", "0", "-c:a", "aac", "-b:a", "48k", "-shortest", "-movflags", "+faststart"),
            str(mp4),
        ]
    )
    _run(
        [
            *("-i", str(mp4), "-c", "copy", "-f", "hls", "-hls_time", "1", "-hls_list_size", "0"),
            *("-hls_segment_filename", str(hls / "seg%d.ts")),
            str(hls / "index.m3u8"),
        ]
    )


def ensure_media(cache_root: Path | None = None) -> MediaFiles:
    root = (cache_root or Path(tempfile.gettempdir())) / f"aniworld-fakesite-media-{MEDIA_VERSION}"
    with _lock:
        if not (root / "video.mp4").is_file():
            building = Path(tempfile.mkdtemp(prefix="aniworld-fakesite-build-", dir=root.parent))
            try:
                _generate(building)
                try:
                    os.rename(building, root)  # atomic; another process may have won the race
                except OSError:
                    shutil.rmtree(building, ignore_errors=True)
            except BaseException:
                shutil.rmtree(building, ignore_errors=True)
                raise
    return MediaFiles(root / "video.mp4", root / "hls")


def cover_png(seed: str, width: int = 40, height: int = 60) -> bytes:
    """A small solid-colour PNG, the colour derived from ``seed``."""
    digest = zlib.crc32(seed.encode("utf-8"))
    pixel = bytes(((digest >> 16) & 255, (digest >> 8) & 255, digest & 255))
    raw = b"".join(b"\x00" + pixel * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return pack(">I", len(data)) + kind + data + pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
