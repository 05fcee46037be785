"""Parallel byte ranges for plain files, the one-connection fallback, and containers kept or remuxed.

Live parts run the engine against the loopback media server (real ranges,
real 429/403 answers, real ffmpeg); the splitting and sniffing rules are unit
tested on their own.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest

from tests.queue.media_server import Scenario
from tests.queue.test_engine import file_source, options_for, request_for, stream_languages
from workers.engine import Cancelled, download
from workers.engine.container import extension_after, sniff, sniff_file, tag_mp4_language
from workers.engine.engine import final_path
from workers.engine.ranges import complete_prefix, split_ranges
from workers.engine.storage import incoming_dir, partial_files

CHUNK = 16 * 1024


def ranged(server, **changes):
    """Small ranges and a per-connection cap, so the media file is fetched over several connections at once."""
    return options_for(server, connections=4, range_chunk=CHUNK, socket_timeout=5, **changes)


# --- units -----------------------------------------------------------------------------------------


def test_split_ranges_cover_the_rest_of_the_file_once():
    assert split_ranges(0, 10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert split_ranges(5, 10, 4) == [(5, 9), (9, 10)]
    assert split_ranges(10, 10, 4) == []
    ranges = split_ranges(12_345, 1_000_000, 4096)
    assert ranges[0][0] == 12_345 and ranges[-1][1] == 1_000_000
    assert all(end == start for (_, end), (start, _) in itertools.pairwise(ranges))
    with pytest.raises(ValueError):
        split_ranges(0, 10, 0)


def test_sniff_names_containers_by_their_first_bytes():
    assert sniff(b"\x00\x00\x00\x20ftypisom") == "mp4"
    assert sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska") == "mkv"
    assert sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x82\x84webm") == "webm"
    assert sniff(bytes([0x47] + [0] * 187) * 3) == "ts"
    assert sniff(b"<html>not a video</html>") is None
    assert extension_after("mp4") == "mp4" and extension_after("mkv") == "mkv"
    assert extension_after("ts") == "mkv" and extension_after(None) == "mkv"


def test_final_path_follows_the_container(tmp_path):
    assert final_path(tmp_path / "a" / "Show - S01E01.mkv", "mp4") == tmp_path / "a" / "Show - S01E01.mp4"
    asked: list[str] = []
    assert final_path(lambda ext: asked.append(ext) or tmp_path / f"x.{ext}", "webm") == tmp_path / "x.webm"
    assert asked == ["webm"]


def test_mp4_language_is_written_in_place(media_dir, tmp_path):
    copy = tmp_path / "copy.mp4"
    shutil.copyfile(media_dir / "episode.mp4", copy)
    assert tag_mp4_language(copy, "en") == 1  # one audio track; the video track keeps its language
    assert "(eng)" in stream_languages(copy)
    assert tag_mp4_language(copy, "unknown") == 0
    assert sniff_file(media_dir / "episode.ts") == "ts"
    assert sniff_file(media_dir / "episode.mkv") == "mkv"


# --- live: parallel ranges -------------------------------------------------------------------------


def test_plain_file_comes_over_parallel_ranges_byte_identical(media_server, library):
    media_server.scenarios["episode.mp4"] = Scenario(bytes_per_second=400_000)
    refused: list[int] = []
    result = download(
        request_for(library, file_source(media_server), on_parallel_refused=refused.append),
        options=ranged(media_server),
    )
    original = (media_server.root / "episode.mp4").read_bytes()
    assert result.path.read_bytes() == original  # no language given: not even tagged
    ranges = [r.range for r in media_server.requests_for("episode.mp4")]
    assert len(ranges) >= len(original) // CHUNK, ranges
    assert all(value and value.startswith("bytes=") for value in ranges)
    assert media_server.peak_active >= 2, "ranges were not fetched in parallel"
    assert media_server.connections >= 3
    assert refused == []
    assert partial_files(incoming_dir(library), 7) == []


def test_an_uncapped_connection_carries_the_file_alone(media_server, library):
    """The first range measures one connection; fast enough means no cap, and more connections would only cost."""
    result = download(request_for(library, file_source(media_server)), options=ranged(media_server, uncapped_speed=1))
    assert result.path.read_bytes() == (media_server.root / "episode.mp4").read_bytes()
    size = len(result.path.read_bytes())
    ranges = [r.range for r in media_server.requests_for("episode.mp4")][1:]  # after the size probe
    assert ranges == [f"bytes=0-{CHUNK - 1}", f"bytes={CHUNK}-{size - 1}"]
    assert media_server.peak_active == 1


@pytest.mark.parametrize("status", [429, 403])
def test_hoster_refusing_parallel_ranges_gets_one_connection_and_completes(media_server, library, status):
    media_server.scenarios["episode.mp4"] = Scenario(bytes_per_second=400_000, max_parallel=1, parallel_status=status)
    refused: list[int] = []
    result = download(
        request_for(library, file_source(media_server), on_parallel_refused=refused.append),
        options=ranged(media_server),
    )
    assert result.path.read_bytes() == (media_server.root / "episode.mp4").read_bytes()
    assert refused == [status]
    statuses = [r.status for r in media_server.requests_for("episode.mp4")]
    assert status in statuses
    last = media_server.requests_for("episode.mp4")[-1]
    assert last.status in (200, 206), "the rest did not come over one connection"
    assert last.range is None or last.range.endswith("-"), "the rest was not asked for in one request"


@pytest.mark.parametrize("ledger", [True, False])
def test_ranged_download_resumes_from_the_complete_prefix(media_server, library, ledger):
    """kill -9 leaves ranges written past the complete prefix (the ledger says where it ends); one connection
    leaves a plain prefix and no ledger. Either way only the rest is fetched and the file is byte-identical."""
    original = (media_server.root / "episode.mp4").read_bytes()
    incoming = incoming_dir(library)
    cut = 3 * CHUNK + 1234
    if ledger:
        damaged = original[:cut] + b"\0" * CHUNK + original[cut + CHUNK : cut + 3 * CHUNK]  # a hole, then a range
        (incoming / "7.part").write_bytes(damaged)
        (incoming / "7.ranges").write_text(f"{cut}\n")
    else:
        (incoming / "7.part").write_bytes(original[:cut])

    result = download(request_for(library, file_source(media_server)), options=ranged(media_server))

    assert result.path.read_bytes() == original
    media_ranges = [r.range for r in media_server.requests_for("episode.mp4")][1:]  # after the size probe
    assert f"bytes={cut}-{cut + CHUNK - 1}" in media_ranges
    starts = [int(value.removeprefix("bytes=").split("-")[0]) for value in media_ranges]
    assert min(starts) == cut, "fetched what was on disk again"
    assert partial_files(incoming, 7) == []


def test_cancel_during_ranges_keeps_a_resumable_prefix(media_server, library):
    media_server.scenarios["episode.mp4"] = Scenario(bytes_per_second=100_000)
    original = (media_server.root / "episode.mp4").read_bytes()

    def stop_after_a_third(done, total, speed, eta):
        if total and done > total // 3:
            raise Cancelled("stopped", discard_partial=False)

    with pytest.raises(Cancelled):
        download(request_for(library, file_source(media_server)), stop_after_a_third, ranged(media_server))
    incoming = incoming_dir(library)
    prefix = complete_prefix(incoming / "7.part")
    assert (incoming / "7.part").read_bytes()[:prefix] == original[:prefix]

    media_server.scenarios.clear()
    result = download(request_for(library, file_source(media_server)), options=ranged(media_server))
    assert result.path.read_bytes() == original


# --- live: containers --------------------------------------------------------------------------------


def test_matroska_is_kept_as_it_arrived(media_server, library):
    result = download(
        request_for(library, file_source(media_server, "episode.mkv"), language="de"), options=ranged(media_server)
    )
    assert result.path.suffix == ".mkv" and not result.remuxed
    assert result.path.read_bytes() == (media_server.root / "episode.mkv").read_bytes()


def test_plain_mpeg_ts_is_remuxed_to_matroska_and_tagged(media_server, library):
    asked: list[str] = []

    def target(extension: str) -> Path:
        asked.append(extension)
        return library / "Show" / f"Show - S01E01.{extension}"

    result = download(
        request_for(library, file_source(media_server, "episode.ts"), language="de", target=target),
        options=ranged(media_server),
    )
    assert asked == ["mkv"]
    assert result.remuxed and result.path == library / "Show" / "Show - S01E01.mkv"
    info = stream_languages(result.path)
    assert "matroska" in info and "(ger)" in info and "German Dub" in info
