"""The queue's race safety on SQLite, the single-machine default: real processes on one database file.

The suite's own SQLite database is in memory (shared cache), where threads cannot
race the way processes do, and the thread races in test_services.py run on
PostgreSQL; so these tests start processes against a file database in WAL mode
with IMMEDIATE transactions, exactly as ``make run`` configures it. They run on
every backend the suite uses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PROJECT_DIR = Path(__file__).resolve().parents[2]

SETUP = """
import django
django.setup()
from apps.queue.services import commands
commands.dispatch_after_commit = lambda: None
from django.core.management import call_command
call_command("migrate", verbosity=0)
from apps.configuration import services as configuration
from apps.library.models import Episode, Season, Series
from apps.queue import services
services.pause_queue()
configuration.update_settings({"max_concurrent_downloads": 3}, actor="test")
series = Series.objects.create(site="aniworld", slug="race", title="Race", year=2020)
season = Season.objects.create(series=series, number=1)
episodes = [Episode.objects.create(season=season, number=n) for n in range(1, 14)]
services.enqueue_episodes([episode.pk for episode in episodes[:12]])
services.start_queue()  # paused -> running while dispatch is stubbed out below: nothing dispatched yet
print(episodes[12].pk)
"""

CONTENDER = """
import json, os, sys, time
import django
django.setup()
from aniworld_site import tasks
from apps.queue import services
dispatched = []  # every download task this process sent, whichever code path dispatched it
tasks._send = lambda name, args, kwargs, queue, task_id: dispatched.append(args[0])
start = float(sys.argv[1])
while time.time() < start:
    time.sleep(0.001)
added = services.enqueue_episodes([int(sys.argv[2])])["queued"]
for _ in range(5):
    services.dispatch()
print(json.dumps({"added": len(added), "dispatched": dispatched}))
"""

REPORT = """
import json
import django
django.setup()
from apps.queue.models import DownloadItem
print(json.dumps({
    "queued": sorted(DownloadItem.objects.filter(state="queued").values_list("id", flat=True)),
    "items_of_last": DownloadItem.objects.filter(episode_id=int(__import__("sys").argv[1])).count(),
}))
"""


def run(code: str, environment: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=PROJECT_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def output(process: subprocess.Popen) -> str:
    stdout, stderr = process.communicate(timeout=180)
    assert process.returncode == 0, stderr[-3000:]
    return stdout.strip().splitlines()[-1]


def test_processes_on_one_sqlite_file_neither_dispatch_twice_nor_add_twice(tmp_path):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"} and not key.startswith("PYTEST")
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="aniworld_site.settings",
        ANIWORLD_DATA_DIR=str(tmp_path),  # no Redis marker there: memory broker, in-process channel layer
        DATABASE_URL=f"sqlite:///{tmp_path / 'queue.sqlite3'}",
    )
    last_episode = output(run(SETUP, environment))
    start = f"{time.time() + 4:.3f}"  # every contender starts at once, after its Django start-up
    contenders = [run(CONTENDER, environment, start, last_episode) for _ in range(6)]
    results = [json.loads(output(process)) for process in contenders]

    dispatched = [item_id for result in results for item_id in result["dispatched"]]
    assert len(dispatched) == len(set(dispatched)), "an item was dispatched twice"
    assert sum(result["added"] for result in results) == 1
    report = json.loads(output(run(REPORT, environment, last_episode)))
    assert len(report["queued"]) == 3  # exactly max_concurrent_downloads, never more
    assert set(dispatched) == set(report["queued"])
    assert report["items_of_last"] == 1
