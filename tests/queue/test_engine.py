"""The download engine against real media on a loopback HTTP server (no mocks)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from apps.catalog.types import HosterError, MediaKind, MediaSource, NotFoundOnSite, SiteBlocking
from tests.queue.media_server import MediaServer, Scenario, make_mp4
from workers.engine import (
    Cancelled,
    DownloadRequest,
    EngineOptions,
    FailureKind,
    InsufficientSpace,
    PermanentDownloadError,
    TransientDownloadError,
    TruncatedDownload,
    classify,
    download,
)
from workers.engine.ffmpeg import ffmpeg_environment, ffmpeg_executable, probe_duration
from workers.engine.storage import incoming_dir, move_into_place, partial_files


def options_for(server: MediaServer, **changes) -> EngineOptions:
    """Engine options that trust this loopback media server (as the allow-list trusts the demo's)."""
    return EngineOptions(allowed_hosts=frozenset({server.allowed_host}), **changes)


def fast(server: MediaServer) -> EngineOptions:
    return options_for(server, http_retries=2, fragment_retries=2, socket_timeout=5)


def file_source(server: MediaServer, path: str = "episode.mp4", **headers: str) -> MediaSource:
    return MediaSource(url=server.url(path), kind=MediaKind.FILE, hoster="VOE", headers=headers)


def hls_source(server: MediaServer, path: str = "hls/master.m3u8") -> MediaSource:
    return MediaSource(url=server.url(path), kind=MediaKind.HLS, hoster="Vidmoly")


def request_for(library: Path, source: MediaSource, item_id: int = 7, **extra) -> DownloadRequest:
    target = extra.pop("target", library / "Show (2020)" / "Season 01" / f"Show - S01E0{item_id} - Ep.mkv")
    return DownloadRequest(item_id=item_id, source=source, target=target, library_root=library, **extra)


def stream_languages(path: Path) -> str:
    result = subprocess.run(
        [ffmpeg_executable(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        check=False,
        env=ffmpeg_environment(),
    )
    return result.stderr


def test_plain_mp4_is_kept_tagged_in_place_and_moved(media_server, library):
    ticks: list[tuple] = []
    result = download(
        request_for(library, file_source(media_server), language="de", title="Ep"),
        progress=lambda *values: ticks.append(values),
        options=fast(media_server),
    )
    assert result.path.is_file()
    assert result.path.suffix == ".mp4", "the extension follows the container"
    assert not result.remuxed
    assert result.size == result.path.stat().st_size > 0
    assert result.duration == pytest.approx(6.0, abs=0.2)
    info = stream_languages(result.path)
    assert "mov,mp4" in info
    assert "Audio: aac" in info and "(deu)" in info
    original = (media_server.root / "episode.mp4").read_bytes()
    arrived = result.path.read_bytes()
    assert len(arrived) == len(original)
    assert sum(a != b for a, b in zip(arrived, original, strict=True)) <= 2, "more than the language was rewritten"
    assert partial_files(incoming_dir(library), 7) == []
    assert ticks, "progress was never reported"
    done = [tick[0] for tick in ticks]
    assert done == sorted(done)
    size = (media_server.root / "episode.mp4").stat().st_size
    assert ticks[-1][0] == ticks[-1][1] == size


def test_remux_is_deterministic(media_server, library):
    first = download(
        request_for(library, hls_source(media_server), item_id=1, language="de"), options=fast(media_server)
    )
    second = download(
        request_for(library, hls_source(media_server), item_id=2, language="de"), options=fast(media_server)
    )
    assert first.remuxed and first.path.suffix == ".mkv"
    assert first.path.read_bytes() == second.path.read_bytes()


def test_hls_master_playlist_best_variant_with_parallel_fragments(media_server, library):
    for index in range(6):
        media_server.scenarios[f"hls/seg{index:03d}.ts"] = Scenario(bytes_per_second=200_000)
    result = download(
        request_for(library, hls_source(media_server), language="de-sub"),
        options=options_for(media_server, connections=4, socket_timeout=5),
    )
    assert result.duration == pytest.approx(6.0, abs=0.3)
    assert "(jpn)" in stream_languages(result.path)
    segment_requests = [r for r in media_server.requests if r.path.endswith(".ts")]
    assert len(segment_requests) == 6
    assert media_server.peak_active >= 2, "fragments were not fetched in parallel"
    assert not media_server.requests_for("hls/low.m3u8"), "picked the low variant"


def test_plain_file_resumes_with_http_range(media_server, library):
    fresh = download(request_for(library, file_source(media_server), item_id=1), options=fast(media_server))
    data = (media_server.root / "episode.mp4").read_bytes()
    half = len(data) // 2
    incoming = incoming_dir(library)
    (incoming / "2.part").write_bytes(data[:half])
    media_server.requests.clear()

    resumed = download(request_for(library, file_source(media_server), item_id=2), options=fast(media_server))

    ranges = [r.range for r in media_server.requests_for("episode.mp4")]
    assert f"bytes={half}-" in ranges
    assert None not in ranges, "the whole file was fetched again"
    assert resumed.resumed_from == half
    assert resumed.path.read_bytes() == fresh.path.read_bytes()


def test_hls_stop_keeps_fragments_and_resume_continues(media_server, library):
    fresh = download(request_for(library, hls_source(media_server), item_id=1), options=fast(media_server))
    media_server.requests.clear()
    options = options_for(media_server, connections=1, socket_timeout=5)
    for index in range(6):
        media_server.scenarios[f"hls/seg{index:03d}.ts"] = Scenario(bytes_per_second=100_000)

    def stop_after_three_segments(done, total, speed, eta):
        if len([r for r in media_server.requests if r.path.endswith(".ts")]) >= 4:
            raise Cancelled("stopped", discard_partial=False)

    with pytest.raises(Cancelled):
        download(request_for(library, hls_source(media_server), item_id=2), stop_after_three_segments, options)
    assert any(path.name == "2.part" for path in partial_files(incoming_dir(library), 2))
    first_round = {r.path for r in media_server.requests if r.path.endswith(".ts")}
    media_server.requests.clear()

    resumed = download(request_for(library, hls_source(media_server), item_id=2), options=options)

    second_round = [r.path for r in media_server.requests if r.path.endswith(".ts")]
    assert len(second_round) < 6, "resume fetched every fragment again"
    assert "/hls/seg000.ts" not in second_round
    assert first_round | set(second_round) >= {f"/hls/seg{index:03d}.ts" for index in range(6)}
    assert resumed.path.read_bytes() == fresh.path.read_bytes()


def test_server_errors_are_retried_then_succeed(media_server, library):
    media_server.scenarios["episode.mp4"] = Scenario(fail_first=2, fail_status=503)
    result = download(
        request_for(library, file_source(media_server)), options=options_for(media_server, http_retries=3)
    )
    assert result.path.is_file()
    assert [r.status for r in media_server.requests_for("episode.mp4")][:2] == [503, 503]


def test_persistent_server_error_is_transient(media_server, library):
    media_server.scenarios["episode.mp4"] = Scenario(status=503)
    with pytest.raises(TransientDownloadError) as caught:
        download(request_for(library, file_source(media_server)), options=fast(media_server))
    assert "503" in caught.value.reason
    assert caught.value.kind == FailureKind.TRANSIENT


def test_missing_file_is_permanent(media_server, library):
    with pytest.raises(PermanentDownloadError) as caught:
        download(request_for(library, file_source(media_server, "gone.mp4")), options=fast(media_server))
    assert "404" in caught.value.reason
    assert not (library / "Show (2020)").exists()


def test_required_headers_are_sent(media_server, library):
    media_server.scenarios["episode.mp4"] = Scenario(require_headers={"Referer": "https://voe.example/"})
    with pytest.raises(TransientDownloadError) as caught:
        download(request_for(library, file_source(media_server)), options=fast(media_server))
    assert "403" in caught.value.reason
    result = download(
        request_for(library, file_source(media_server, Referer="https://voe.example/")), options=fast(media_server)
    )
    assert result.path.is_file()


def test_cut_transfer_is_resumed_within_the_attempt(media_server, library):
    media_server.scenarios["episode.mp4"] = Scenario(truncate_after=50_000, truncate_times=1)
    result = download(request_for(library, file_source(media_server)), options=fast(media_server))
    assert result.path.is_file()
    ranges = [r.range for r in media_server.requests_for("episode.mp4")]
    assert ranges[:2] == ["bytes=0-0", None]
    assert len(ranges) == 3 and ranges[2].startswith("bytes=") and ranges[2] != "bytes=0-", ranges


def test_always_cut_transfer_fails_transient(media_server, library):
    media_server.scenarios["episode.mp4"] = Scenario(truncate_after=50_000, truncate_times=100, ignore_range=True)
    with pytest.raises(TransientDownloadError):
        download(request_for(library, file_source(media_server)), options=fast(media_server))


def test_shorter_than_expected_is_truncated_and_discarded(media_server, library):
    with pytest.raises(TruncatedDownload) as caught:
        download(request_for(library, file_source(media_server), expected_duration=60.0), options=fast(media_server))
    assert "truncated" in caught.value.reason
    assert partial_files(incoming_dir(library), 7) == []
    assert not (library / "Show (2020)" / "Season 01").exists() or not any(
        (library / "Show (2020)" / "Season 01").iterdir()
    )


def test_damaged_media_is_detected(media_dir, media_server, library):
    data = (media_dir / "episode.mp4").read_bytes()
    (media_dir / "broken.mp4").write_bytes(data[: len(data) // 3])
    with pytest.raises(TransientDownloadError):
        download(request_for(library, file_source(media_server, "broken.mp4")), options=fast(media_server))
    assert partial_files(incoming_dir(library), 7) == []


def test_cancel_deletes_partial_within_two_seconds(media_server, library):
    media_server.scenarios["episode.mp4"] = Scenario(bytes_per_second=40_000)
    cancel = threading.Event()
    requested_at: list[float] = []

    def callback(done, total, speed, eta):
        if cancel.is_set():
            raise Cancelled("cancelled by the owner")

    def press_cancel():
        time.sleep(1.0)
        requested_at.append(time.monotonic())
        cancel.set()

    threading.Thread(target=press_cancel).start()
    with pytest.raises(Cancelled):
        download(request_for(library, file_source(media_server)), callback, fast(media_server))
    assert time.monotonic() - requested_at[0] < 2.0
    assert partial_files(incoming_dir(library), 7) == []


def test_stop_keeps_partial(media_server, library):
    media_server.scenarios["episode.mp4"] = Scenario(bytes_per_second=100_000)

    def callback(done, total, speed, eta):
        if done > 20_000:
            raise Cancelled("queue stopped", discard_partial=False)

    with pytest.raises(Cancelled):
        download(request_for(library, file_source(media_server)), callback, fast(media_server))
    part = incoming_dir(library) / "7.part"
    assert part.is_file() and part.stat().st_size > 20_000


def test_speed_limit_is_applied(media_server, library):
    size = (media_server.root / "episode.mp4").stat().st_size
    started = time.monotonic()
    download(request_for(library, file_source(media_server)), options=options_for(media_server, rate_limit=size // 2))
    assert time.monotonic() - started >= 1.5


def test_not_enough_space_fails_before_downloading(media_server, library):
    options = options_for(media_server, space_margin=1 << 60)
    with pytest.raises(InsufficientSpace) as caught:
        download(request_for(library, file_source(media_server)), options=options)
    assert "free" in caught.value.reason
    assert [r.range for r in media_server.requests_for("episode.mp4")] == ["bytes=0-0"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full to simulate a full disk")
def test_full_disk_mid_download_fails_that_item_only(media_server, library):
    incoming = incoming_dir(library)
    (incoming / "7.part").symlink_to("/dev/full")
    with pytest.raises(InsufficientSpace) as caught:
        download(request_for(library, file_source(media_server)), options=fast(media_server))
    assert "no space left" in caught.value.reason.lower()
    assert caught.value.kind == FailureKind.PERMANENT
    assert partial_files(incoming, 7) == []
    other = download(request_for(library, file_source(media_server), item_id=8), options=fast(media_server))
    assert other.path.is_file()


def test_probe_duration_reads_real_files(tmp_path):
    assert probe_duration(make_mp4(tmp_path / "three.mp4", seconds=3)) == pytest.approx(3.0, abs=0.1)
    (tmp_path / "noise.bin").write_bytes(os.urandom(1000))
    assert probe_duration(tmp_path / "noise.bin") is None


def test_classify_catalog_errors():
    retry_at = datetime.now(UTC) + timedelta(minutes=5)
    blocking = classify(SiteBlocking("aniworld.to is blocking us (captcha)", retry_at))
    assert blocking.kind == FailureKind.BLOCKING and blocking.retry_at == retry_at
    assert classify(NotFoundOnSite("no such episode")).kind == FailureKind.PERMANENT
    assert classify(HosterError("VOE page changed")).kind == FailureKind.TRANSIENT
    assert classify(TimeoutError("read timed out")).kind == FailureKind.TRANSIENT
    assert classify(OSError(28, "No space left on device")).kind == FailureKind.PERMANENT


def test_an_existing_file_is_never_overwritten_unless_the_caller_allows_it(media_server, library):
    options = fast(media_server)
    first = download(request_for(library, file_source(media_server), item_id=8), options=options)
    original = first.path.read_bytes()
    clash = dataclasses.replace(request_for(library, file_source(media_server), item_id=9), target=first.path)
    with pytest.raises(PermanentDownloadError, match="already exists"):
        download(clash, options=options)
    assert first.path.read_bytes() == original
    assert list(incoming_dir(library).iterdir()) == []
    refused = dataclasses.replace(
        clash, before_move=lambda _target: (_ for _ in ()).throw(PermanentDownloadError("taken"))
    )
    with pytest.raises(PermanentDownloadError, match="taken"):
        download(refused, options=options)
    assert first.path.read_bytes() == original
    upgrade = dataclasses.replace(clash, before_move=lambda _target: True)  # the episode's own file: replaced
    assert download(upgrade, options=options).path == first.path


def test_the_no_clobber_move_refuses_an_existing_target(tmp_path):
    source, target = tmp_path / "new", tmp_path / "old"
    source.write_bytes(b"new")
    target.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        move_into_place(source, target, replace=False)
    assert target.read_bytes() == b"old" and source.read_bytes() == b"new"
    move_into_place(source, tmp_path / "fresh", replace=False)
    assert (tmp_path / "fresh").read_bytes() == b"new" and not source.exists()
