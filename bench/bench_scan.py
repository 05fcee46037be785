"""Benchmark: scan and rescan a generated 100,000-file library, against `find` on the same tree.

Run standalone: ``.venv/bin/python bench/bench_scan.py [--series 1000] [--seasons 4] [--episodes 25] [--runs 3]``.
It sets Django up on a temporary data directory with its own SQLite database
(no Redis needed) and removes everything afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.results import record, summarize  # noqa: E402


def setup_django(data_dir: Path) -> None:
    for name in ("REDIS_URL", "DATABASE_URL"):
        os.environ.pop(name, None)
    os.environ["ANIWORLD_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "aniworld_site.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def generate_tree(root: Path, series: int, seasons: int, episodes: int) -> int:
    from apps.library.models import Series

    Series.objects.bulk_create(
        [
            Series(site="aniworld", slug=f"bench-{index}", title=f"Bench Series {index}", year=2000 + index % 25)
            for index in range(series)
        ],
        batch_size=1000,
    )
    count = 0
    for index in range(series):
        series_dir = root / f"Bench Series {index} ({2000 + index % 25})"
        for season in range(1, seasons + 1):
            season_dir = series_dir / f"Season {season:02}"
            season_dir.mkdir(parents=True)
            for episode in range(1, episodes + 1):
                name = f"Bench Series {index} - S{season:02}E{episode:02} - Episode {episode}.mkv"
                (season_dir / name).touch()
                count += 1
    # Directories written this second could still change within the mtime granularity; the scanner
    # lists such "unsettled" folders again. Date the tree back a minute, as a library at rest is.
    for directory, _dirs, _files in os.walk(root):
        stat = os.stat(directory)
        os.utime(directory, ns=(stat.st_atime_ns, stat.st_mtime_ns - 60_000_000_000))
    return count


def forget_scans() -> None:
    """Back to a library that was never scanned (the series stay)."""
    from apps.library.models import Episode, ScannedDirectory, Season, UnmatchedFile

    for model in (Episode, Season, ScannedDirectory, UnmatchedFile):
        model.objects.all().delete()


def find_and_count(root: Path) -> str:
    """``find <root> -type f | wc -l``, the baseline."""
    with subprocess.Popen(["find", str(root), "-type", "f"], stdout=subprocess.PIPE) as finder:
        counted = subprocess.run(["wc", "-l"], stdin=finder.stdout, capture_output=True, text=True, check=True)
    return counted.stdout.strip()


def timed(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--seasons", type=int, default=4)
    parser.add_argument("--episodes", type=int, default=25)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="aniworld-bench-scan-"))
    try:
        setup_django(workdir / "data")
        from apps.library.models import Episode, EpisodeState
        from apps.library.scanner import LibraryScanner

        root = workdir / "library"
        root.mkdir()
        generate_seconds, files = timed(lambda: generate_tree(root, args.series, args.seasons, args.episodes))
        print(f"generated {files:,} files in {args.series:,} series folders ({generate_seconds:.1f} s)")

        firsts, rescans, fulls, finds = [], [], [], []
        for run in range(1, args.runs + 1):
            forget_scans()
            first_seconds, first = timed(lambda: LibraryScanner(root).run())
            present = Episode.objects.filter(state=EpisodeState.PRESENT).count()
            print(
                f"run {run}: first scan : {first_seconds:8.3f} s  listed {first.directories_listed:,} folders, "
                f"{first.files_seen:,} files, {present:,} episodes present"
            )
            if present != files:
                raise SystemExit(f"first scan placed {present} of {files} files")
            rescan_seconds, rescan = timed(lambda: LibraryScanner(root).run())
            print(
                f"run {run}: rescan     : {rescan_seconds:8.3f} s  visited {rescan.directories_visited:,} folders, "
                f"listed {rescan.directories_listed:,}, read {rescan.files_seen:,} file entries"
            )
            full_seconds, _ = timed(lambda: LibraryScanner(root, full=True).run())
            print(f"run {run}: full rescan: {full_seconds:8.3f} s  (lists every folder again)")
            find_seconds, find_output = timed(lambda: find_and_count(root))
            print(f"run {run}: find | wc  : {find_seconds:8.3f} s  ({int(find_output):,} files)")
            firsts.append(first_seconds)
            rescans.append(rescan_seconds)
            fulls.append(full_seconds)
            finds.append(find_seconds)
        rows = [
            summarize(name, samples, finds, unit="s", digits=3, baseline_name="find | wc -l")
            for name, samples in (("first scan", firsts), ("unchanged rescan", rescans), ("full rescan", fulls))
        ]
        for row in rows:
            print("  ".join(f"{key}={value}" for key, value in row.items()))
        record(
            "library scan",
            rows,
            f"{files:,} files in {args.series:,} series folders x {args.seasons} season folders (generated, "
            "page cache warm), SQLite; each run starts from an empty scan state (series kept); baseline "
            "`find <root> -type f | wc -l` on the same tree.",
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
