"""The page scripts read only what the server sends and keep no copy of the server's lists."""

from __future__ import annotations

import re
from pathlib import Path

from apps.catalog.types import LANGUAGE_CHOICES
from apps.realtime.publish import ProgressPublisher
from workers.library import scan_progress_reporter

ROOT = Path(__file__).resolve().parents[2]
PAGE_SCRIPTS = [path for path in (ROOT / "apps").glob("*/static/*/*.js")]


def scan_frame_fields() -> set[str]:
    frames: list[dict] = []
    publisher = ProgressPublisher.for_library_scan(
        "scan-1", send=lambda kind, data, rooms: frames.append(data), min_interval=0
    )
    report = scan_progress_reporter(publisher)
    report({"phase": "walking", "directories_visited": 3, "files_seen": 10, "current": "/library/A"})
    report(
        {
            "phase": "finished",
            "directories_visited": 9,
            "files_seen": 40,
            "episodes_found": 2,
            "episodes_lost": 0,
            "unmatched_files": [],
        }
    )
    return set().union(*frames)


def test_the_library_page_reads_only_fields_of_the_scan_progress_frames():
    source = (ROOT / "apps/library/static/library/library.js").read_text()
    handler = source[source.index('"library_scan_progress"') :]
    handler = handler[: handler.index("});")]
    read = set(re.findall(r"\bdata\.(\w+)", handler))
    assert read, "the handler reads the frame's data"
    assert read <= scan_frame_fields(), f"library.js reads fields the server never sends: {read - scan_frame_fields()}"


def test_no_page_script_keeps_its_own_copy_of_the_language_labels():
    assert PAGE_SCRIPTS
    for path in PAGE_SCRIPTS:
        text = path.read_text()
        for _code, label in LANGUAGE_CHOICES:
            assert label not in text, f"{path.relative_to(ROOT)} repeats the label {label!r}: use Api.lists"


def test_no_page_script_joins_a_room_itself():
    """Pages declare their rooms in the template; the realtime client joins them."""
    for path in PAGE_SCRIPTS:
        if path.name != "realtime.js":
            assert "Realtime.join(" not in path.read_text(), path
