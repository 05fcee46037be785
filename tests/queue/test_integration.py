"""The queue on the real stack: daphne, Celery worker processes, beat, Redis, the fake catalog site.

Each test adds the fake site's "Moonlit Blade" through the API, queues episodes
through the API and watches the queue through the API, the fake site's
statistics and the library folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from aniworld_site.stack import free_port
from tests.fakesite.plugin import FAST_CATALOG_ENV
from tests.services import start_redis_server
from workers.engine.container import tag_mp4_language
from workers.engine.ranges import complete_prefix

pytestmark = [pytest.mark.integration, pytest.mark.slow]

QUEUE_ENV = {
    "ANIWORLD_QUEUE_LEASE_SECONDS": "4",
    "ANIWORLD_QUEUE_CONTROL_CHECK_SECONDS": "0.25",
    "ANIWORLD_QUEUE_PROGRESS_WRITE_SECONDS": "1",
}


class Api:
    def __init__(self, live: Any, web: int = 0):
        self.live = live
        self.client = live.client(web, headers={"Authorization": f"Bearer {live.login(web=web)}"})

    def call(self, method: str, path: str, expected: int = 200, **kwargs: Any) -> Any:
        response = self.client.request(method, path, **kwargs)
        assert response.status_code == expected, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def config(self, **changes: Any) -> None:
        self.call("PATCH", "/api/config", json=changes)

    def add_moonlit(self) -> dict[tuple[int, int], int]:
        series = self.call("POST", "/api/search/add", 201, json={"site": "aniworld", "slug": "moonlit-blade"})
        detail = self.call("GET", f"/api/anime/{series['id']}")
        return {
            (season["number"], episode["number"]): episode["id"]
            for season in detail["seasons"]
            for episode in season["episodes"]
        }

    def add(self, episode_ids: list[int], priority: str = "normal") -> list[int]:
        result = self.call("POST", "/api/queue/add", 201, json={"episode_ids": episode_ids, "priority": priority})
        return [item["id"] for item in result["queued"]]

    def item(self, item_id: int) -> dict[str, Any]:
        return self.call("GET", f"/api/queue/{item_id}")

    def status(self) -> dict[str, Any]:
        return self.call("GET", "/api/queue/status")


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, live: Any) -> Any:
    """Poll until ``predicate()`` is truthy (tolerates a killed worker, unlike LiveStack.wait_until)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (httpx.HTTPError, AssertionError):
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{live.log_tail(150)}")


@pytest.fixture
def queue_stack(live_stack_factory, fake_site):
    def start(**kwargs: Any) -> tuple[Any, Api]:
        extra_env = {**fake_site.env(), **FAST_CATALOG_ENV, **QUEUE_ENV, **kwargs.pop("extra_env", {})}
        live = live_stack_factory(extra_env=extra_env, **kwargs)
        live.setup_owner()
        return live, Api(live)

    return start


def all_completed(api: Api, item_ids: list[int]) -> bool:
    return all(api.item(item_id)["state"] == "completed" for item_id in item_ids)


def test_priorities_fifo_and_reorder_decide_the_start_order(queue_stack, fake_site):
    live, api = queue_stack(workers=1)
    api.config(max_concurrent_downloads=1, hoster_preference=["Vidoza", "VOE"])
    episodes = api.add_moonlit()
    api.call("POST", "/api/queue/pause")
    (low,) = api.add([episodes[(1, 1)]], "low")
    normal_a, normal_b = api.add([episodes[(1, 2)], episodes[(1, 3)]], "normal")
    high_a, high_b = api.add([episodes[(2, 1)], episodes[(2, 2)]], "high")
    api.call("POST", "/api/queue/reorder", json={"item_id": normal_b, "new_position": 0})
    api.call("POST", "/api/queue/resume")

    expected = [high_a, high_b, normal_b, normal_a, low]
    wait_for(lambda: all_completed(api, expected), 120, "every item to complete", live)
    started = sorted(expected, key=lambda item_id: api.item(item_id)["started_at"])
    assert started == expected
    assert fake_site.stats()["media"]["max_concurrent_downloads"] == 1


def test_two_workers_never_run_more_than_the_maximum_and_nothing_twice(queue_stack, fake_site):
    live, api = queue_stack(workers=2, worker_concurrency=2)
    api.config(max_concurrent_downloads=2, hoster_preference=["Vidoza"])
    episodes = api.add_moonlit()
    fake_site.set_scenario(slow_bytes_per_second=120_000)
    item_ids = api.add(list(episodes.values()))
    assert len(item_ids) == 7

    seen_active: list[int] = []

    def done() -> bool:
        status = api.status()
        seen_active.append(len(status["active"]))
        return status["stats"]["counts"]["completed"] == 7

    wait_for(done, 180, "all seven downloads", live)
    media = fake_site.stats()["media"]
    assert media["max_concurrent_downloads"] == 2, media
    assert max(seen_active) <= 2
    workers = {api.item(item_id)["worker_id"].split(":")[1] for item_id in item_ids}
    assert len(workers) >= 2, "the second worker process never ran a download"
    video_requests = {
        path: count for path, count in fake_site.stats()["requests"].items() if path.endswith("/video.mp4")
    }
    assert len(video_requests) == 7
    assert set(video_requests.values()) == {2}, f"a file was fetched twice: {video_requests}"  # size probe + transfer


def _worker_holding(live: Any, worker_id: str) -> str:
    pid = int(worker_id.split(":")[1])
    for child in live.stack.children:
        running = child.name.startswith("worker") and child.process.poll() is None
        if running and os.getpgid(pid) == child.process.pid:
            return child.name
    raise AssertionError(f"no running worker owns process {pid}")


def test_kill_9_of_a_worker_resumes_on_the_other_from_the_partial(queue_stack, fake_site, tmp_path):
    live, api = queue_stack(workers=2, worker_concurrency=1)
    api.config(max_concurrent_downloads=1, hoster_preference=["Vidoza"])
    episodes = api.add_moonlit()
    fake_site.set_scenario(slow_bytes_per_second=25_000)
    (item_id,) = api.add([episodes[(1, 1)]])
    size = fake_site.media().mp4.stat().st_size

    item = wait_for(
        lambda: (found := api.item(item_id))["state"] == "downloading" and found["bytes_done"] > size // 3 and found,
        60,
        "a third of the file",
        live,
    )
    victim = _worker_holding(live, item["worker_id"])
    os.killpg(live.stack.child(victim).process.pid, signal.SIGKILL)
    partial = live.data_dir / "library" / ".incoming" / f"{item_id}.part"
    kept = partial.stat().st_size
    assert kept > 0
    fake_site.set_scenario(slow_bytes_per_second=None)
    served_before = fake_site.stats()["bytes_served"]

    final = wait_for(lambda: (found := api.item(item_id))["state"] == "completed" and found, 90, "the resume", live)

    assert final["worker_id"] != item["worker_id"]
    assert final["attempts"] == 0, "a lost worker must not use up an attempt"
    assert fake_site.stats()["bytes_served"] - served_before <= size - kept + 64 * 1024, "restarted from zero"
    produced = live.data_dir / "library" / final["file_path"]
    assert produced.read_bytes() == _as_delivered(fake_site.media().mp4, tmp_path, "de")


def _as_delivered(mp4: Path, tmp_path: Path, language: str) -> bytes:
    """The hoster's MP4 as the library gets it: the same bytes with the language tagged in place."""
    expected = tmp_path / "expected.mp4"
    shutil.copyfile(mp4, expected)
    tag_mp4_language(expected, language)
    return expected.read_bytes()


def test_kill_9_during_parallel_ranges_resumes_byte_identical(queue_stack, fake_site, tmp_path):
    range_bytes = 8192
    live, api = queue_stack(
        workers=2,
        worker_concurrency=1,
        extra_env={"ANIWORLD_DOWNLOAD_RANGE_BYTES": str(range_bytes), "ANIWORLD_DOWNLOAD_CONNECTIONS": "4"},
    )
    api.config(max_concurrent_downloads=1, hoster_preference=["Vidoza"])
    episodes = api.add_moonlit()
    fake_site.set_scenario(slow_bytes_per_second=4_000)  # per connection
    (item_id,) = api.add([episodes[(1, 1)]])
    size = fake_site.media().mp4.stat().st_size
    partial = live.data_dir / "library" / ".incoming" / f"{item_id}.part"

    def some_ranges_complete() -> Any:
        # the first range is fetched alone (to measure one connection); wait until parallel ranges followed it
        found = api.item(item_id)
        return found["state"] == "downloading" and complete_prefix(partial) > 2 * range_bytes and found

    item = wait_for(some_ranges_complete, 60, "the first ranges on disk", live)
    victim = _worker_holding(live, item["worker_id"])
    os.killpg(live.stack.child(victim).process.pid, signal.SIGKILL)
    kept = complete_prefix(partial)
    assert 0 < kept < size
    requests_before = dict(fake_site.stats()["requests"])
    fake_site.set_scenario(slow_bytes_per_second=None)
    served_before = fake_site.stats()["bytes_served"]

    final = wait_for(lambda: (found := api.item(item_id))["state"] == "completed" and found, 90, "the resume", live)

    assert final["worker_id"] != item["worker_id"]
    video = [path for path in requests_before if path.endswith("/video.mp4")]
    assert len(video) == 1 and requests_before[video[0]] > 3, "the file did not come over several range requests"
    # at most the ranges that were in flight (and not yet appended) come again
    assert fake_site.stats()["bytes_served"] - served_before <= size - kept + 4 * range_bytes, "restarted from zero"
    produced = live.data_dir / "library" / final["file_path"]
    assert produced.suffix == ".mp4"
    assert produced.read_bytes() == _as_delivered(fake_site.media().mp4, tmp_path, "de")


def test_owner_controls_on_the_live_stack(queue_stack, fake_site):
    live, api = queue_stack(workers=1)
    api.config(max_concurrent_downloads=1, hoster_preference=["Vidoza"], max_retries=0)
    episodes = api.add_moonlit()
    incoming = live.data_dir / "library" / ".incoming"

    # cancel of an active download: stops within 2 s and deletes the partial
    fake_site.set_scenario(slow_bytes_per_second=20_000)
    first, second = api.add([episodes[(1, 1)], episodes[(1, 2)]])
    wait_for(lambda: api.item(first)["bytes_done"] > 0, 60, "the first download to run", live)
    cancelled_at = time.monotonic()
    assert api.call("DELETE", f"/api/queue/{first}") == {"removed": [], "cancelled": [first]}
    wait_for(lambda: not list(incoming.glob(f"{first}.*")), 5, "the partial to go", live)
    latency = time.monotonic() - cancelled_at
    assert latency < 2.5, f"cancel took {latency:.2f} s (DELETE call and 0.2 s polling included)"
    assert api.item(first)["state"] == "cancelled"

    # stop: the running item goes back to pending with its partial; start resumes it
    wait_for(lambda: api.item(second)["bytes_done"] > 0, 60, "the second download to run", live)
    assert api.call("POST", "/api/queue/stop")["state"] == "stopped"
    wait_for(lambda: api.item(second)["state"] == "pending", 5, "the stop", live)
    time.sleep(1)
    assert (incoming / f"{second}.part").stat().st_size > 0
    fake_site.set_scenario(slow_bytes_per_second=None)
    assert api.call("POST", "/api/queue/start")["state"] == "running"
    wait_for(lambda: api.item(second)["state"] == "completed", 60, "the resumed download", live)

    # pause: nothing new starts; resume starts it
    api.call("POST", "/api/queue/pause")
    (third,) = api.add([episodes[(1, 3)]])
    time.sleep(6)  # a dispatcher tick passes
    assert api.item(third)["state"] == "pending"
    api.call("POST", "/api/queue/resume")
    wait_for(lambda: api.item(third)["state"] == "completed", 60, "the download after resume", live)

    # a failure (no retries configured), then retry after the hoster recovers
    fake_site.set_scenario(fail_times=100, fail_status=503, fail_prefix="/media/")
    (fourth,) = api.add([episodes[(2, 1)]])
    failed = wait_for(lambda: (found := api.item(fourth))["state"] == "failed" and found, 60, "the failure", live)
    assert "503" in failed["last_error"]
    fake_site.set_scenario(fail_times=0)
    assert api.call("POST", "/api/queue/retry", json={})["retried"] == [fourth]
    wait_for(lambda: api.item(fourth)["state"] == "completed", 60, "the retried download", live)

    assert api.call("DELETE", "/api/queue/completed")["deleted"] == 3
    assert [item["id"] for item in api.status()["failed"]] == [first]


def test_restarting_web_worker_and_redis_loses_nothing(queue_stack, fake_site):
    redis_dir = Path(tempfile.mkdtemp(prefix="aniworld-queue-redis-"))
    port = free_port()

    def start_redis() -> subprocess.Popen:
        return start_redis_server(port, str(redis_dir))

    redis = start_redis()
    try:
        live, api = queue_stack(
            workers=1,
            worker_concurrency=1,
            extra_env={"REDIS_URL": f"redis://127.0.0.1:{port}/0", "ANIWORLD_QUEUE_DISPATCH_TIMEOUT_SECONDS": "8"},
        )
        # Two may run but the worker takes one at a time: the second waits as a message in Redis.
        api.config(max_concurrent_downloads=2, hoster_preference=["Vidoza"])
        episodes = api.add_moonlit()
        fake_site.set_scenario(slow_bytes_per_second=30_000)
        item_ids = api.add([episodes[(1, 1)], episodes[(1, 2)], episodes[(1, 3)]])
        wait_for(lambda: api.item(item_ids[0])["bytes_done"] > 0, 60, "the first download to run", live)
        assert [api.item(item_id)["state"] for item_id in item_ids] == ["downloading", "queued", "pending"]

        for name in ("worker", "beat", "web"):
            child = live.stack.child(name)
            os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()
        redis.kill()
        redis.wait()
        redis = start_redis()  # an empty Redis: every message and lock is gone
        fake_site.set_scenario(slow_bytes_per_second=None)
        for name in ("web", "worker", "beat"):
            live.stack.start_child(live.stack.child(name))
        live.wait_ready(min_workers=1)
        api = Api(live)

        wait_for(lambda: all_completed(api, item_ids), 120, "every item after the restart", live)
        files = [live.data_dir / "library" / api.item(item_id)["file_path"] for item_id in item_ids]
        assert all(path.is_file() and path.stat().st_size > 0 for path in files)
    finally:
        redis.kill()
        redis.wait()


def test_hoster_trouble_on_the_live_stack(queue_stack, fake_site):
    live, api = queue_stack(workers=1)
    api.config(
        max_concurrent_downloads=1, hoster_preference=["Vidoza", "Doodstream"], max_retries=3, retry_backoff_seconds=1
    )
    episodes = api.add_moonlit()

    # 5xx beyond the engine's own retries: the attempt fails, backs off, and the next attempt succeeds
    fake_site.set_scenario(fail_times=40, fail_status=503, fail_prefix="/media/")
    (flaky,) = api.add([episodes[(1, 1)]])
    waiting = wait_for(lambda: (found := api.item(flaky))["attempts"] >= 1 and found, 60, "a failed attempt", live)
    assert "503" in waiting["last_error"] and waiting["next_attempt_at"]
    fake_site.set_scenario(fail_times=0)
    done = wait_for(lambda: (found := api.item(flaky))["state"] == "completed" and found, 60, "the retry", live)
    assert done["attempts"] >= 1

    # a dead hoster: the next hoster in the preference takes over within the same attempt
    fake_site.set_scenario(dead_hosters=["Vidoza"])
    (dead,) = api.add([episodes[(1, 2)]])
    done = wait_for(lambda: (found := api.item(dead))["state"] == "completed" and found, 60, "the fallback", live)
    assert done["hoster"] == "Doodstream" and done["attempts"] == 0
    fake_site.set_scenario(dead_hosters=[])

    # a truncated transfer: detected, the attempt fails transient, a later attempt completes
    fake_site.set_scenario(truncate_media=True)
    (cut,) = api.add([episodes[(1, 3)]])
    waiting = wait_for(lambda: (found := api.item(cut))["attempts"] >= 1 and found, 90, "the truncation", live)
    assert "cut short" in waiting["last_error"] or "truncated" in waiting["last_error"], waiting["last_error"]
    fake_site.set_scenario(truncate_media=False)
    wait_for(lambda: api.item(cut)["state"] == "completed", 60, "the download after the truncation", live)

    # a hostile title: the file lands inside the library, whatever the catalog says
    hostile = api.call("POST", "/api/search/add", 201, json={"site": "aniworld", "slug": "hostile-title"})
    detail = api.call("GET", f"/api/anime/{hostile['id']}")
    episode_id = detail["seasons"][0]["episodes"][0]["id"]
    (safe,) = api.add([episode_id])
    done = wait_for(lambda: (found := api.item(safe))["state"] == "completed" and found, 60, "the hostile title", live)
    library = (live.data_dir / "library").resolve()
    path = (library / done["file_path"]).resolve()
    assert path.is_file() and path.is_relative_to(library)
    assert ".." not in Path(done["file_path"]).parts
