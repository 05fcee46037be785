"""Benchmark: queue API latency with 10,000 pending and 100,000 completed items, SQLite and PostgreSQL.

Run standalone: ``.venv/bin/python bench/bench_queue_api.py [--pending 10000] [--completed 100000]
[--requests 200] [--runs 3] [--databases sqlite,postgres]``.

For each database it starts a real web process (``aniworld_site.stack.Stack``: daphne, embedded
Redis, no workers) on a fresh database (PostgreSQL: a throwaway database on 127.0.0.1:5432, skipped
when it does not answer), fills the queue, and times sequential HTTP requests from one client:

- baseline: ``GET /api/auth/status`` (authenticated, one session lookup: the cost of any request);
- ``/api/queue/status`` (first page of every list), the same 300 pages deep into the completed list
  (by cursor), and ``/api/queue/stats``;
- ``/health`` (answered from worker heartbeats; with no worker it reports that);
- on PostgreSQL also the baseline with the connection pool off (``ANIWORLD_DB_POOL_MAX_SIZE=0``).

Each run gives p50 and p99 over ``--requests`` requests; printed and written to bench/RESULTS.md
(section "queue API") are min / median over ``--runs`` runs and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import httpx  # noqa: E402

from aniworld_site.stack import Stack, free_port  # noqa: E402
from bench.results import record, summarize  # noqa: E402

PASSWORD = f"Bench-{secrets.token_hex(8)}-Aa1!"  # a throwaway owner of a throwaway stack
POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def postgres_answers() -> bool:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return True
    except Exception:  # any failure means: no PostgreSQL to measure
        return False


@contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench.sqlite3'}"
        return
    import psycopg

    name = f"aniworld_bench_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def base_env(data_dir: Path, database_url: str) -> dict[str, str]:
    return {
        "ANIWORLD_DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url,
        "ANIWORLD_KEY_PREFIX": f"bench-{secrets.token_hex(4)}",
        "DJANGO_SETTINGS_MODULE": "aniworld_site.settings",
        "LOG_LEVEL": "WARNING",
    }


def migrate_and_fill(env: dict[str, str], pending: int, completed: int) -> None:
    """Migrate, then insert the items in a child process (Django set up on that database)."""
    code = f"""
import django, datetime
django.setup()
from django.utils import timezone
from apps.library.models import Episode, Season, Series
from apps.queue.models import DownloadItem, ItemState
series = Series.objects.create(site="aniworld", slug="bench", title="Bench", year=2020)
season = Season.objects.create(series=series, number=1)
episodes = Episode.objects.bulk_create(
    [Episode(season=season, number=n, title_en=f"Episode {{n}}") for n in range(1, {pending} + 2)], batch_size=2000
)
now = timezone.now()
DownloadItem.objects.bulk_create(
    [DownloadItem(episode=episodes[n], site="aniworld", label=f"Bench - S01E{{n:05}}", position=n)
     for n in range({pending})], batch_size=2000)
batch = []
for n in range({completed}):
    finished = now - datetime.timedelta(seconds=n)
    batch.append(DownloadItem(
        episode=episodes[n % len(episodes)], site="aniworld", label=f"Bench - done {{n}}", position=n,
        state=ItemState.COMPLETED, bytes_done=300_000_000, bytes_total=300_000_000,
        started_at=finished - datetime.timedelta(seconds=60), finished_at=finished,
        file_path=f"Bench/Season 01/done-{{n}}.mkv"))
    if len(batch) == 5000:
        DownloadItem.objects.bulk_create(batch)
        batch = []
DownloadItem.objects.bulk_create(batch)
"""
    full_env = {**os.environ, **env}
    for argv in ([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], [sys.executable, "-c", code]):
        done = subprocess.run(argv, cwd=PROJECT_ROOT, env=full_env, capture_output=True, text=True, check=False)
        if done.returncode:
            raise SystemExit(f"{argv[1]} failed:\n{done.stdout}\n{done.stderr}")
    if env["DATABASE_URL"].startswith("postgres"):
        import psycopg

        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")


@contextmanager
def web_stack(workdir: Path, env: dict[str, str], name: str) -> Iterator[str]:
    log = (workdir / f"stack-{name}.log").open("a", buffering=1)
    os.environ.pop("REDIS_URL", None)
    stack = Stack(
        data_dir=Path(env["ANIWORLD_DATA_DIR"]),
        web_ports=[free_port()],
        workers=0,
        beat=False,
        env=env,
        output=log,
    )
    stack.start()
    base = f"http://{stack.host}:{stack.web_ports[0]}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if stack.first_exit():
                raise SystemExit(f"the web process exited; see {workdir / f'stack-{name}.log'}")
            try:
                httpx.get(f"{base}/api/auth/status", timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise SystemExit("the web process did not answer") from None
                time.sleep(0.2)
        yield base
    finally:
        stack.stop()


def login(client: httpx.Client) -> None:
    if not client.get("/api/auth/status").json()["setup_complete"]:
        assert client.post("/api/auth/setup", json={"password": PASSWORD}).status_code == 201
    response = client.post("/api/auth/login", json={"password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"


def deep_cursor(client: httpx.Client, pages: int) -> str:
    cursor = ""
    for _ in range(pages):
        body = client.get(f"/api/queue/status?limit=200&completed_cursor={cursor}").json()
        cursor = body["pages"]["completed"]["next_cursor"] or cursor
    return cursor


def latencies(client: httpx.Client, path: str, count: int, expect: tuple[int, ...] = (200,)) -> list[float]:
    """Seconds per request, after a few warm-up requests."""
    for _ in range(5):
        client.get(path)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - started)
        if response.status_code not in expect:
            raise SystemExit(f"{path}: HTTP {response.status_code} {response.text[:300]}")
    return times


def measure(base: str, paths: dict[str, str], count: int, runs: int) -> dict[str, dict[str, list[float]]]:
    """For each named path: the p50 and p99 of every run."""
    results: dict[str, dict[str, list[float]]] = {name: {"p50": [], "p99": []} for name in paths}
    with httpx.Client(base_url=base, timeout=30) as client:
        login(client)
        resolved = {name: (path() if callable(path) else path) for name, path in paths.items()}
        for _ in range(runs):
            for name, path in resolved.items():
                slow = path == "/health"  # answered in seconds until /health reads heartbeats
                times = latencies(client, path, min(count, 5) if slow else count, (200, 503) if slow else (200,))
                results[name]["p50"].append(percentile(times, 50))
                results[name]["p99"].append(percentile(times, 99))
    return results


def rows_for(kind: str, results: dict[str, dict[str, list[float]]], baseline: str) -> list[dict[str, object]]:
    rows = []
    for name, figures in results.items():
        for stat in ("p50", "p99"):
            row = summarize(
                f"{kind}: {name} {stat}",
                figures[stat],
                results[baseline][stat] if name != baseline else None,
                scale=1000,
                digits=1,
                baseline_name=f"{baseline} {stat}",
            )
            print("  ".join(f"{key}={value}" for key, value in row.items()))
            rows.append(row)
    return rows


def run_database(kind: str, args: argparse.Namespace, workdir: Path) -> list[dict[str, object]]:
    with database(kind, workdir) as url:
        data_dir = workdir / f"data-{kind}"
        data_dir.mkdir()
        env = base_env(data_dir, url)
        started = time.perf_counter()
        migrate_and_fill(env, args.pending, args.completed)
        print(
            f"{kind}: {args.pending:,} pending + {args.completed:,} completed in {time.perf_counter() - started:.0f} s"
        )
        baseline = "trivial request (/api/auth/status)"
        with web_stack(workdir, env, kind) as base:

            def deep() -> str:
                with httpx.Client(base_url=base, timeout=60) as client:
                    login(client)
                    return f"/api/queue/status?limit=200&completed_cursor={deep_cursor(client, 300)}"

            results = measure(
                base,
                {
                    baseline: "/api/auth/status",
                    "/api/queue/status": "/api/queue/status",
                    "/api/queue/status, completed page 301": deep,
                    "/api/queue/stats": "/api/queue/stats",
                    "/health": "/health",
                },
                args.requests,
                args.runs,
            )
        rows = rows_for(kind, results, baseline)
        if kind == "postgres":
            with web_stack(workdir, {**env, "ANIWORLD_DB_POOL_MAX_SIZE": "0"}, "postgres-no-pool") as base:
                unpooled = measure(
                    base,
                    {"no pool: trivial request": "/api/auth/status", "no pool: /api/queue/stats": "/api/queue/stats"},
                    args.requests,
                    args.runs,
                )
            for name, figures in unpooled.items():
                pooled = results[baseline if "trivial" in name else "/api/queue/stats"]
                row = summarize(f"postgres: {name} p50", figures["p50"], pooled["p50"], scale=1000, digits=1)
                row["baseline"] = f"with pool: {row['baseline']}"
                print("  ".join(f"{key}={value}" for key, value in row.items()))
                rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--completed", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--databases", default="sqlite,postgres")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="aniworld-bench-queue-"))
    rows: list[dict[str, object]] = []
    notes = []
    try:
        for kind in args.databases.split(","):
            if kind == "postgres" and not postgres_answers():
                print("postgres: not answering on 127.0.0.1:5432, skipped")
                notes.append("PostgreSQL did not answer: skipped.")
                continue
            rows += run_database(kind, args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    record(
        "queue API",
        rows,
        f"{args.pending:,} pending and {args.completed:,} completed items; {args.requests} sequential requests "
        "per figure and run from one HTTP client to one daphne process; the ratio compares with the trivial "
        "request (or, for the no-pool rows, with the same request through the pool). /health answers 503 "
        "here (no worker runs), which is also what it costs. " + " ".join(notes),
    )


if __name__ == "__main__":
    main()
