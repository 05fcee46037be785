"""The fake catalog site itself: scenarios over Python and HTTP, statistics, Range, headers, standalone run, yt-dlp."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from aniworld_site.stack import free_port
from tests.fakesite.catalog import FakeLink
from tests.fakesite.media import ensure_media


def _link(site, hoster: str, number: int = 1) -> FakeLink:
    series = site.catalog.find("aniworld", "moonlit-blade")
    episode = series.episode(1, number)
    return next(link for link in episode.links if link.hoster == hoster)


def _vidoza_mp4(site) -> str:
    return site.media_url("vidoza", _link(site, "Vidoza").code, "file")


def test_control_api_over_http(fake_site):
    control = f"{fake_site.base_url}/_control"
    response = httpx.post(f"{control}/scenario", json={"fail_times": 2, "dead_hosters": ["VOE"]})
    assert response.status_code == 200 and response.json()["fail_times"] == 2
    assert fake_site.scenarios.dead_hosters == ["VOE"]  # the Python side sees what HTTP set
    assert httpx.get(f"{control}/state").json()["dead_hosters"] == ["VOE"]
    bad = httpx.post(f"{control}/scenario", json={"no_such_switch": 1})
    assert bad.status_code == 400 and "no_such_switch" in bad.json()["error"]
    httpx.get(f"{fake_site.aniworld_url}/anime/stream/moonlit-blade")
    stats = httpx.get(f"{control}/stats").json()
    assert stats["requests"] == {"/aw/anime/stream/moonlit-blade": 1} and stats["bytes_served"] > 0
    assert httpx.post(f"{control}/reset").json() == {"ok": True}
    assert httpx.get(f"{control}/state").json()["fail_times"] == 0
    assert httpx.get(f"{control}/stats").json()["requests"] == {}


def test_fail_n_times_then_success(fake_site):
    fake_site.set_scenario(fail_times=2, fail_status=502, fail_prefix="/media/")
    url = _vidoza_mp4(fake_site)
    assert [httpx.get(url).status_code for _ in range(3)] == [502, 502, 200]
    assert httpx.get(f"{fake_site.aniworld_url}/anime/stream/moonlit-blade").status_code == 200  # other prefix


def test_block_scenario_serves_ddos_guard(fake_site):
    fake_site.set_scenario(block_prefix="/aw/")
    response = httpx.get(f"{fake_site.aniworld_url}/anime/stream/moonlit-blade")
    assert response.status_code == 403 and response.headers["server"] == "ddos-guard"
    assert "__ddg1_" in response.headers["set-cookie"] and "DDoS-Guard" in response.text
    assert httpx.get(f"{fake_site.sto_url}/serie/stream/harbor-lights").status_code == 200


def test_captcha_scenario(fake_site):
    fake_site.set_scenario(captcha_prefix="/aw/redirect/")
    response = httpx.get(f"{fake_site.aniworld_url}/redirect/1001")
    assert response.status_code == 200 and "cf-turnstile" in response.text
    assert httpx.get(f"{fake_site.aniworld_url}/redirect/1002").status_code == 200
    assert httpx.get(f"{fake_site.sto_url}/r", params={"t": "tok1103"}).status_code == 302


def test_dead_hoster_scenario_and_dead_links(fake_site):
    voe = _link(fake_site, "VOE")
    assert "application/json" in httpx.get(fake_site.embed_url(voe)).text
    fake_site.set_scenario(dead_hosters=["VOE"])
    response = httpx.get(fake_site.embed_url(voe))
    assert response.status_code == 200 and "File not found" in response.text
    assert httpx.get(fake_site.embed_url(_link(fake_site, "Streamtape", 1))).status_code == 404  # dead link


def test_media_range_requests(fake_site):
    url = _vidoza_mp4(fake_site)
    size = ensure_media().mp4.stat().st_size
    whole = httpx.get(url)
    assert whole.status_code == 200 and len(whole.content) == size and whole.headers["accept-ranges"] == "bytes"
    part = httpx.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole.content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{size}"
    tail = httpx.get(url, headers={"Range": f"bytes={size - 10}-"})
    assert tail.status_code == 206 and tail.content == whole.content[-10:]
    suffix = httpx.get(url, headers={"Range": "bytes=-5"})
    assert suffix.content == whole.content[-5:]
    assert httpx.get(url, headers={"Range": f"bytes={size}-"}).status_code == 416
    head = httpx.head(url)
    assert head.status_code == 200 and int(head.headers["content-length"]) == size and head.content == b""


def test_media_of_referer_hosters_needs_referer(fake_site):
    voe = _link(fake_site, "VOE")
    playlist = fake_site.media_url("voe", voe.code, "hls")
    assert httpx.get(playlist).status_code == 403
    referer = {"Referer": fake_site.base_url + "/"}
    text = httpx.get(playlist, headers=referer).text
    segments = [line for line in text.splitlines() if line.endswith(".ts")]
    assert len(segments) >= 5
    segment_url = playlist.rsplit("/", 1)[0] + "/" + segments[0]
    assert httpx.get(segment_url).status_code == 403
    segment = httpx.get(segment_url, headers=referer)
    assert segment.status_code == 200 and segment.content[:1] == b"\x47"  # MPEG-TS sync byte
    assert httpx.get(_vidoza_mp4(fake_site)).status_code == 200  # Vidoza needs no header


def test_slow_transfer(fake_site):
    fake_site.set_scenario(slow_bytes_per_second=100_000)
    started = time.monotonic()
    response = httpx.get(_vidoza_mp4(fake_site), headers={"Range": "bytes=0-39999"})
    assert len(response.content) == 40_000
    assert time.monotonic() - started >= 0.35


def test_truncated_transfer(fake_site):
    fake_site.set_scenario(truncate_media=True)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(_vidoza_mp4(fake_site))


def test_stats_count_bytes_and_concurrent_downloads(fake_site):
    fake_site.set_scenario(slow_bytes_per_second=200_000)
    urls = [fake_site.media_url("vidoza", _link(fake_site, "Vidoza", n).code, "file") for n in (1, 2, 3)]
    urls.append(urls[0])  # a second transfer of the same media: 4 transfers, 3 downloads
    threads = [
        threading.Thread(target=httpx.get, args=(url,), kwargs={"headers": {"Range": "bytes=0-59999"}, "timeout": 30})
        for url in urls
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deadline = time.monotonic() + 2  # the server thread leaves its transfer just after the last byte
    while fake_site.stats()["media"]["current_transfers"] and time.monotonic() < deadline:
        time.sleep(0.01)
    stats = fake_site.stats()
    assert stats["bytes_served"] == 4 * 60_000
    assert stats["media"]["max_transfers"] == 4 and stats["media"]["max_concurrent_downloads"] == 3
    assert stats["media"]["current_transfers"] == 0 and stats["media"]["current_downloads"] == 0
    assert fake_site.requests_to("/media/vidoza/") == 4


def test_hostile_titles_scenario_in_raw_pages(fake_site):
    fake_site.set_scenario(hostile_titles=True)
    page = httpx.get(f"{fake_site.aniworld_url}/anime/stream/moonlit-blade").text
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in page  # escaped in HTML, like the real site
    assert "<script>alert" not in page


def test_covers(fake_site):
    response = httpx.get(f"{fake_site.aniworld_url}/public/img/cover/moonlit-blade.png")
    assert response.headers["content-type"] == "image/png" and response.content.startswith(b"\x89PNG")
    assert httpx.get(f"{fake_site.aniworld_url}/public/img/cover/nope.png").status_code == 404


@pytest.mark.integration
def test_standalone_server_prints_its_base_url():
    for _attempt in range(5):  # the sites listen on the next two ports, which another test may hold just then
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakesite", "--port", str(port), "--no-media"],
            cwd=Path(__file__).resolve().parents[2],
            stdout=subprocess.PIPE,
            text=True,
        )
        first_line = process.stdout.readline().strip()
        if first_line:
            break
        process.wait(timeout=10)  # it could not listen: try other ports
    try:
        assert first_line == f"http://127.0.0.1:{port}"
        env_line = process.stdout.readline().strip()
        assert env_line == f"ANIWORLD_ANIWORLD_URL=http://127.0.0.1:{port + 1}"  # each site on its own port
        aniworld = env_line.split("=", 1)[1]
        assert httpx.get(f"{aniworld}/anime/stream/moonlit-blade").status_code == 200
        assert httpx.get(f"{first_line}/aw/anime/stream/moonlit-blade").status_code == 404  # no path prefix
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize(("hoster", "kind"), [("Vidoza", "file"), ("VOE", "hls")])
def test_yt_dlp_downloads_from_the_fake_site(fake_site, tmp_path, hoster, kind):
    """What the download engine does: yt-dlp with the resolver's headers, MP4 and HLS (native, 2 fragments at once)."""
    import yt_dlp

    link = _link(fake_site, hoster)
    url = fake_site.media_url(HOSTER_PATH[hoster], link.code, kind)
    options = {
        "outtmpl": str(tmp_path / "out.%(ext)s"),
        "http_headers": {"Referer": fake_site.base_url + "/"},
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "concurrent_fragment_downloads": 2,
        "fixup": "never",  # no ffmpeg post-processing: the file must be exactly what the site served
    }
    with yt_dlp.YoutubeDL(options) as ydl:
        assert ydl.download([url]) == 0
    [output] = [p for p in tmp_path.iterdir() if not p.name.endswith((".part", ".ytdl"))]
    media = ensure_media()
    if kind == "file":
        expected = media.mp4.read_bytes()
    else:
        expected = b"".join((media.hls_dir / name).read_bytes() for name in media.segments)
    assert output.read_bytes() == expected
    assert fake_site.stats()["media"]["max_concurrent_downloads"] == 1


HOSTER_PATH = {"Vidoza": "vidoza", "VOE": "voe"}
