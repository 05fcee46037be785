"""bench/results.py: each benchmark rewrites only its own section of RESULTS.md."""

from __future__ import annotations

from pathlib import Path

from bench.results import record, summarize


def test_record_rewrites_its_own_section_and_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    record("scan", [summarize("first scan", [2.0, 1.0, 3.0], [0.5, 0.5, 0.5], unit="s")], "old", path=path)
    record("queue", [summarize("status", [0.004, 0.005, 0.006], scale=1000)], "queue notes", path=path)
    record("scan", [summarize("first scan", [1.0, 1.0, 1.0], [0.5, 0.5, 0.5], unit="s")], "new", path=path)

    text = path.read_text()
    assert text.count("<!-- section:scan -->") == 1
    assert "old" not in text and "new" in text
    assert "queue notes" in text and "4.00 / 5.00 ms" in text
    assert text.index("section:scan") < text.index("section:queue"), "sections keep their first order"
    assert "| first scan | 3 | 1.00 / 1.00 s | 0.50 / 0.50 s | 2.00x |" in text
    assert "load average" in text and "machine:" in text


def test_summarize_gives_min_median_and_ratio_of_medians() -> None:
    row = summarize("x", [3.0, 1.0, 2.0], [1.0, 1.0, 4.0], unit="s", baseline_name="find")
    assert row == {
        "benchmark": "x",
        "runs": 3,
        "min / median": "1.00 / 2.00 s",
        "baseline": "find: 1.00 / 1.00 s",
        "ratio": "2.00x",
    }
