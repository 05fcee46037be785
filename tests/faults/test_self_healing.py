"""Self-healing under faults: a broker restarted empty, beat down and a worker killed (issue 13).

Each test prints its timings. Beat is frozen (SIGSTOP) rather than killed, so the
supervisor cannot bring it back: whatever heals the queue then runs in a worker.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import redis

from tests.faults.conftest import PROGRESS_ENV
from tests.queue.test_integration import Api

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.faults]

# Heartbeats every 2 s (a worker is gone 6 s after its last one); receipt timeout and lease stay at their defaults.
HEALING_ENV = {**PROGRESS_ENV, "ANIWORLD_WORKER_HEARTBEAT_SECONDS": "2"}


def children_of(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


def slow_moonlit(stack, fake_site) -> tuple[Api, dict]:
    """The owner set up on a healthy stack, one download at a time from Vidoza, at 10 kB/s per connection."""
    stack.wait_until(stack.healthy, 90, "the stack to be healthy")
    stack.setup_owner()
    api = Api(stack)
    api.config(max_concurrent_downloads=1, hoster_preference=["Vidoza"])
    episodes = api.add_moonlit()
    fake_site.set_scenario(slow_bytes_per_second=10_000)
    return api, episodes


def embedded_redis(stack) -> tuple[str, int]:
    """The URL and pid of the Redis the stack's supervisor started."""
    url = (stack.data_dir / "run" / "redis.url").read_text().strip()
    (pid,) = [child for child in children_of(stack.process.pid) if "redis" in cmdline(child)]
    return url, pid


def test_redis_restarted_empty_while_an_item_is_dispatched_runs_it_within_20s(supervised_stack, fake_site):
    stack = supervised_stack(HEALING_ENV)
    api, episodes = slow_moonlit(stack, fake_site)
    redis_url, redis_pid = embedded_redis(stack)
    (worker_pid,) = stack.pids("worker")

    os.kill(worker_pid, signal.SIGSTOP)
    time.sleep(3)  # its pending BRPOP times out (1 s): the message then waits in Redis, nobody takes it
    try:
        (item_id,) = api.add([episodes[(1, 1)]])
        stack.wait_until(lambda: api.item(item_id)["state"] == "queued", 15, "the item to be dispatched")
        os.kill(redis_pid, signal.SIGKILL)  # its message goes with it: the embedded Redis keeps nothing
        killed_at = time.monotonic()
        stack.wait_until(lambda: not redis_answers(redis_url), 5, "Redis to be gone")
        stack.wait_until(lambda: redis_answers(redis_url), 30, "the supervisor to restart Redis")
        returned_at = time.monotonic()
        assert redis.Redis.from_url(redis_url).dbsize() == 0, "Redis came back with data"
    finally:
        os.kill(worker_pid, signal.SIGCONT)
    assert api.item(item_id)["state"] == "queued"

    stack.wait_until(lambda: api.item(item_id)["state"] == "downloading", 40, "the item to run")
    running_after = time.monotonic() - returned_at
    print(
        f"\nRedis was down {returned_at - killed_at:.2f}s; the item ran {running_after:.2f}s after Redis returned "
        "(receipt timeout 15s; the dispatch timeout would be 600s)"
    )
    assert running_after < 20


def test_beat_down_and_a_worker_killed_the_item_is_taken_over_within_20s(supervised_stack, fake_site):
    stack = supervised_stack(HEALING_ENV)  # the default 60 s lease: waiting for it would fail the test
    api, episodes = slow_moonlit(stack, fake_site)
    (item_id,) = api.add([episodes[(1, 1)]])
    running = stack.wait_until(
        lambda: (found := api.item(item_id))["state"] == "downloading" and found["bytes_done"] > 0 and found,
        60,
        "the download to run",
    )
    (beat_pid,), (worker_pid,) = stack.pids("beat"), stack.pids("worker")
    os.kill(beat_pid, signal.SIGSTOP)
    try:
        doomed = [worker_pid, *children_of(worker_pid)]  # the pool process runs the download
        for pid in doomed:
            os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        taken_over = stack.wait_until(
            lambda: (found := api.item(item_id))["state"] == "downloading"
            and found["worker_id"] != running["worker_id"]
            and found,
            40,
            "another worker to take the item over",
        )
        takeover = time.monotonic() - killed_at
        restarted = stack.pids("worker")[-1]
        print(
            f"\ntakeover: worker {worker_pid} killed with beat frozen: taken over by {taken_over['worker_id']} "
            f"(worker pid {restarted}) after {takeover:.2f}s (the lease is 60s)"
        )
        assert takeover < 20
        assert restarted != worker_pid
    finally:
        os.kill(beat_pid, signal.SIGCONT)
    fake_site.set_scenario(slow_bytes_per_second=None)
    stack.wait_until(lambda: api.item(item_id)["state"] == "completed", 90, "the download to complete")


def test_a_download_added_while_redis_is_down_holds_no_slot_and_runs_when_redis_returns(supervised_stack, fake_site):
    stack = supervised_stack(HEALING_ENV)
    api, episodes = slow_moonlit(stack, fake_site)
    redis_url, redis_pid = embedded_redis(stack)

    os.kill(stack.process.pid, signal.SIGSTOP)  # the supervisor cannot restart Redis until we let it
    try:
        os.kill(redis_pid, signal.SIGKILL)
        stack.wait_until(lambda: not redis_answers(redis_url), 5, "Redis to be gone")
        (item_id,) = api.add([episodes[(1, 1)]])
        row = stack.wait_until(
            lambda: (found := {row["id"]: row for row in stack.items()}[item_id])["state"] == "pending" and found,
            15,
            "the unsent item to be back in pending",
        )
        assert "broker" in row["last_error"] and row["task_id"] == "", row
    finally:
        os.kill(stack.process.pid, signal.SIGCONT)
    stack.wait_until(lambda: redis_answers(redis_url), 30, "the supervisor to restart Redis")
    returned_at = time.monotonic()
    stack.wait_until(lambda: api.item(item_id)["state"] == "downloading", 40, "the item to run")
    running_after = time.monotonic() - returned_at
    print(f"\nadded while Redis was down: pending at once; ran {running_after:.2f}s after Redis returned")
    assert running_after < 20
