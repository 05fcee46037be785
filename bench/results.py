"""Published benchmark figures: each benchmark rewrites its own section of ``bench/RESULTS.md``.

Usage from a benchmark script::

    from bench.results import record, summarize   # or ``from results import ...`` when run as a script

    runs = [measure() for _ in range(3)]
    baseline = [measure_baseline() for _ in range(3)]
    record(
        "scan",
        [summarize("full rescan", runs, baseline, unit="s")],
        notes="100,000 files; baseline `find <root> -type f | wc -l`",
    )

``record`` keeps every other section as it is, so benchmarks can run alone or from ``make bench``
in any order. Each section carries the machine, the date, the load average at the time and the
command that produced it, because the figures only mean something next to those (the development
machine is shared and loaded).
"""

from __future__ import annotations

import fcntl
import os
import platform
import re
import shlex
import statistics
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

RESULTS_PATH = Path(__file__).resolve().parent / "RESULTS.md"
TITLE = "# Benchmark results"
PREAMBLE = (
    "Written by `make bench` (each `bench/bench_*.py` rewrites its own section through `bench/results.py`).\n"
    "Every figure is min / median of the runs shown; *ratio* is the median divided by the median of the\n"
    "baseline measured in the same invocation (lower is better unless the row says otherwise).\n"
)

Row = dict[str, object]


def machine() -> str:
    """A one-line description of the machine: CPU model and count, memory, OS, Python."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
                break
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"


def summarize(
    name: str,
    samples: Sequence[float],
    baseline: Sequence[float] | None = None,
    *,
    unit: str = "ms",
    baseline_name: str = "",
    scale: float = 1.0,
    digits: int = 2,
) -> Row:
    """One table row: min / median of ``samples`` and the ratio of medians to ``baseline``.

    ``scale`` converts the samples into ``unit`` (1000 for seconds measured, milliseconds shown).
    """

    def shown(values: Sequence[float]) -> str:
        return f"{min(values) * scale:.{digits}f} / {statistics.median(values) * scale:.{digits}f} {unit}"

    row: Row = {"benchmark": name, "runs": len(samples), "min / median": shown(samples) if samples else "—"}
    if baseline:
        row["baseline"] = f"{baseline_name + ': ' if baseline_name else ''}{shown(baseline)}"
        base_median = statistics.median(baseline)
        row["ratio"] = f"{statistics.median(samples) / base_median:.2f}x" if samples and base_median else "—"
    return row


def _table(rows: Sequence[Row]) -> str:
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [str(row.get(column, "")).replace("|", "\\|") for column in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_section(section: str, rows: Sequence[Row], notes: str = "", command: str | None = None) -> str:
    command = command if command is not None else shlex.join([Path(sys.executable).name, *sys.argv])
    parts = [
        f"<!-- section:{section} -->",
        f"## {section}",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M UTC}",
        f"- machine: {machine()}",
        f"- load average at the end: {load_average()}",
        f"- command: `{command}`",
        "",
        _table(rows) if rows else "_no rows_",
    ]
    if notes:
        parts += ["", notes.strip()]
    parts.append(f"<!-- /section:{section} -->")
    return "\n".join(parts)


def record(
    section: str,
    rows: Sequence[Row],
    notes: str = "",
    *,
    command: str | None = None,
    path: Path = RESULTS_PATH,
) -> Path:
    """Rewrite ``section`` of RESULTS.md with ``rows`` (dicts: column → cell), keeping other sections.

    Sections stay in the order they were first written; a file lock keeps benchmarks that run at the
    same time from losing each other's sections.
    """
    if not re.fullmatch(r"[\w .,/+()-]+", section):
        raise ValueError(f"section name {section!r}: letters, digits, spaces and .,/+()- only")
    block = render_section(section, rows, notes, command)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = path.read_text() if path.exists() else f"{TITLE}\n\n{PREAMBLE}"
        pattern = re.compile(
            rf"<!-- section:{re.escape(section)} -->.*?<!-- /section:{re.escape(section)} -->", re.DOTALL
        )
        if pattern.search(text):
            text = pattern.sub(lambda _match: block, text, count=1)
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
        path.write_text(text if text.endswith("\n") else text + "\n")
    return path
