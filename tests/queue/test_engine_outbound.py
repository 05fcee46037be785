"""The download engine under the outbound policy: every request yt-dlp makes is checked (real servers, no mocks).

``media_server`` is allow-listed (port-specific, as the demo's fake site is); ``inside`` is another service on
127.0.0.1 that a hostile hoster would like the engine to reach. It must never receive a request.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aniworld_site.stack import PROJECT_DIR
from apps.catalog.types import MediaKind, MediaSource
from tests.queue.media_server import MediaServer, Scenario
from tests.queue.test_engine import fast, file_source, hls_source, request_for
from workers.engine import PermanentDownloadError, download

REFUSED = r"refused by the outbound policy: refused to fetch"


@pytest.fixture
def inside(media_dir: Path) -> Iterator[MediaServer]:
    server = MediaServer(media_dir).start()
    yield server
    server.stop()


def test_media_url_on_a_loopback_port_is_refused(media_server, inside, library):
    with pytest.raises(PermanentDownloadError, match=REFUSED):
        download(request_for(library, file_source(inside)), options=fast(media_server))
    assert inside.requests == []


@pytest.mark.parametrize("url", ["file:///etc/hostname", "ftp://8.8.8.8/x.mp4", "data:video/mp4;base64,AAAA"])
def test_media_url_with_another_scheme_is_refused(media_server, library, url):
    source = MediaSource(url=url, kind=MediaKind.FILE, hoster="VOE")
    with pytest.raises(PermanentDownloadError, match="only http and https"):
        download(request_for(library, source), options=fast(media_server))


@pytest.mark.parametrize("kind", ["loopback-port", "localhost-name", "metadata", "file", "dict"])
def test_media_redirect_inside_is_refused(media_server, inside, library, kind):
    target = {
        "loopback-port": inside.url("episode.mp4"),
        "localhost-name": f"http://localhost:{inside.port}/episode.mp4",
        "metadata": "http://169.254.169.254/latest/meta-data/",
        "file": "file:///etc/hostname",
        "dict": f"dict://127.0.0.1:{inside.port}/SET:k:v",
    }[kind]
    media_server.scenarios["moved.mp4"] = Scenario(redirect_to=target)
    with pytest.raises(PermanentDownloadError, match=REFUSED) as refused:
        download(request_for(library, file_source(media_server, "moved.mp4")), options=fast(media_server))
    assert target in refused.value.reason
    assert inside.requests == []


def test_hls_playlist_redirect_inside_is_refused(media_server, inside, library):
    media_server.scenarios["hls/master.m3u8"] = Scenario(redirect_to=inside.url("hls/master.m3u8"))
    with pytest.raises(PermanentDownloadError, match=REFUSED):
        download(request_for(library, hls_source(media_server)), options=fast(media_server))
    assert inside.requests == []


def test_hls_segment_redirect_inside_is_refused(media_server, inside, library):
    media_server.scenarios["hls/seg002.ts"] = Scenario(redirect_to=inside.url("hls/seg002.ts"))
    with pytest.raises(PermanentDownloadError, match=REFUSED):
        download(request_for(library, hls_source(media_server)), options=fast(media_server))
    assert inside.requests == []


def test_hls_segments_listed_inside_are_refused(tmp_path, media_dir, inside, library):
    """A playlist on an allowed host whose segment URLs point at a loopback service."""
    hostile_root = tmp_path / "hostile"
    (hostile_root / "hls").mkdir(parents=True)
    playlist = (media_dir / "hls" / "media.m3u8").read_text()
    rewritten = re.sub(r"^(seg\d+\.ts)$", lambda m: inside.url(f"hls/{m.group(1)}"), playlist, flags=re.MULTILINE)
    assert rewritten != playlist
    (hostile_root / "hls" / "media.m3u8").write_text(rewritten)
    hostile = MediaServer(hostile_root).start()
    try:
        source = MediaSource(url=hostile.url("hls/media.m3u8"), kind=MediaKind.HLS, hoster="Vidmoly")
        with pytest.raises(PermanentDownloadError, match=REFUSED):
            download(request_for(library, source), options=fast(hostile))
    finally:
        hostile.stop()
    assert inside.requests == []


def test_a_name_that_turns_private_at_connect_time_is_refused(media_server, inside, library, monkeypatch):
    """DNS rebinding: the name is public when first checked and 127.0.0.1 afterwards; nothing reaches inside."""
    real_getaddrinfo = socket.getaddrinfo
    calls: list[str] = []

    def rebinding(host, port, *args, **kwargs):
        if host != "cdn.rebind.example":
            return real_getaddrinfo(host, port, *args, **kwargs)
        calls.append(host)
        address = "93.184.216.34" if len(calls) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    source = MediaSource(url=f"http://cdn.rebind.example:{inside.port}/episode.mp4", kind=MediaKind.FILE, hoster="VOE")
    with pytest.raises(PermanentDownloadError, match=REFUSED):
        download(request_for(library, source), options=fast(media_server))
    assert inside.requests == []


def test_the_engine_and_the_policy_import_without_django():
    code = (
        "import sys, workers.engine, workers.engine.outbound, apps.catalog.outbound; "
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
        "assert not loaded, loaded"
    )
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PROJECT_DIR, env=env)
