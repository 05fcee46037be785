"""`make run`'s supervisor under faults: a killed web process comes back; running downloads never notice."""

from __future__ import annotations

import os
import signal
import statistics
import time

import httpx
import pytest

from tests.faults.conftest import PROGRESS_ENV
from tests.queue.test_integration import Api

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.faults]


def test_a_killed_web_process_is_restarted_while_the_download_keeps_running(supervised_stack, fake_site):
    stack = supervised_stack({**PROGRESS_ENV, "ANIWORLD_NODE_NAME": "fault-node"})
    stack.wait_until(stack.healthy, 90, "the stack to be healthy")
    timings = []
    with httpx.Client(timeout=5) as probe:  # one connection, as a health checker or dashboard keeps it
        for _ in range(10):
            started = time.perf_counter()
            assert probe.get(stack.url("/health")).status_code == 200
            timings.append((time.perf_counter() - started) * 1000)
    print(f"\n/health over HTTP: median {statistics.median(timings):.1f} ms, max {max(timings):.1f} ms")
    assert statistics.median(timings) < 50
    stack.setup_owner()
    api = Api(stack)
    api.config(max_concurrent_downloads=1, hoster_preference=["Vidoza"])
    episodes = api.add_moonlit()
    fake_site.set_scenario(slow_bytes_per_second=10_000)
    (item_id,) = api.add([episodes[(1, 1)]])
    running = stack.wait_until(
        lambda: (found := api.item(item_id))["state"] == "downloading" and found["bytes_done"] > 0 and found,
        60,
        "the download to run",
    )
    (web_pid,), (worker_pid,) = stack.pids("web"), stack.pids("worker")
    assert running["worker_id"].startswith("fault-node:")
    workers = stack.wait_until(
        lambda: (body := api.call("GET", "/api/queue/workers"))["workers"][0]["active"] and body,
        15,
        "the worker's heartbeat to list the download",
    )
    assert workers["nodes"] == ["fault-node"] and workers["count"] == 1
    assert [entry["item_id"] for entry in workers["workers"][0]["active"]] == [item_id]
    assert workers["workers"][0]["pid"] == worker_pid and workers["workers"][0]["library"]["free_bytes"] > 0

    killed_at = time.monotonic()
    os.kill(web_pid, signal.SIGKILL)
    stack.wait_until(lambda: len(stack.pids("web")) == 2, 15, "the supervisor to start a new web process")
    restarted = time.monotonic() - killed_at
    stack.wait_until(stack.healthy, 30, "/health to answer again")
    healthy = time.monotonic() - killed_at
    print(f"\nweb SIGKILLed: new web process after {restarted:.2f}s, /health 200 again after {healthy:.2f}s")

    assert "web exited with code -9 (SIGKILL)" in stack.log()
    assert "restarting it in 1s (restart 1 in a row)" in stack.log()
    assert stack.pids("worker") == [worker_pid], "the worker was restarted too"
    os.kill(worker_pid, 0)  # still alive
    api = Api(stack)  # the old connection went with the old process
    after = api.item(item_id)
    assert after["state"] == "downloading" and after["worker_id"] == running["worker_id"]
    assert after["attempts"] == 0
    stack.wait_until(lambda: api.item(item_id)["bytes_done"] > after["bytes_done"], 15, "more bytes")

    fake_site.set_scenario(slow_bytes_per_second=None)
    finished = time.monotonic()
    done = stack.wait_until(
        lambda: (found := api.item(item_id))["state"] == "completed" and found, 60, "the download to finish"
    )
    print(f"the download finished {time.monotonic() - finished:.2f}s after the throttle was lifted")
    assert done["worker_id"] == running["worker_id"], "the download was started again"
    assert stack.terminate() < 20
    assert "did not stop" not in stack.log()
