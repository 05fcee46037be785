"""A clean stop of `make run` (SIGTERM, Ctrl-C) hands running downloads back; the next start resumes them at once."""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import PROGRESS_ENV
from tests.queue.test_integration import Api

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.faults]


def test_a_clean_stop_hands_both_downloads_back_and_the_next_start_resumes_them(supervised_stack, fake_site):
    stack = supervised_stack(PROGRESS_ENV)  # the default 60 s lease: any wait for it would show in the timings
    stack.wait_until(stack.healthy, 90, "the stack to be healthy")
    stack.setup_owner()
    api = Api(stack)
    api.config(max_concurrent_downloads=2, hoster_preference=["Vidoza"])
    episodes = api.add_moonlit()
    fake_site.set_scenario(slow_bytes_per_second=10_000)
    item_ids = api.add([episodes[(1, 1)], episodes[(1, 2)]])
    stack.wait_until(
        lambda: all((found := api.item(i))["state"] == "downloading" and found["bytes_done"] > 0 for i in item_ids),
        60,
        "both downloads to run",
    )
    incoming = stack.data_dir / "library" / ".incoming"

    stopped_in = stack.terminate()
    print(f"\nSIGTERM to the supervisor: every process stopped in {stopped_in:.2f}s")
    assert stopped_in < 10
    assert "did not stop" not in stack.log(), "a worker had to be killed"
    rows = {row["id"]: row for row in stack.items()}
    kept = {}
    for item_id in item_ids:
        row = rows[item_id]
        assert row["state"] == "pending", row
        assert row["worker_id"] == "" and row["lease_expires_at"] in (None, "None"), row
        assert row["attempts"] == 0 and "stopped cleanly" in row["last_error"], row
        kept[item_id] = (incoming / f"{item_id}.part").stat().st_size
        assert kept[item_id] > 0
    print(f"partial files kept: {kept}")

    served_before = fake_site.stats()["bytes_served"]
    stack.restart()
    stack.wait_until(stack.healthy, 90, "the restarted stack to be healthy")
    healthy_after = time.monotonic() - stack.starts[-1]
    api = Api(stack)
    stack.wait_until(
        lambda: all(api.item(i)["state"] == "downloading" for i in item_ids), 30, "both downloads to resume"
    )
    resumed_after = time.monotonic() - stack.starts[-1]
    print(
        f"restart: healthy after {healthy_after:.2f}s, both downloading after {resumed_after:.2f}s "
        f"({resumed_after - healthy_after:.2f}s after /health; the lease is 60s)"
    )
    assert resumed_after - healthy_after < 10

    fake_site.set_scenario(slow_bytes_per_second=None)
    stack.wait_until(lambda: all(api.item(i)["state"] == "completed" for i in item_ids), 90, "both to complete")
    size = fake_site.media().mp4.stat().st_size
    served = fake_site.stats()["bytes_served"] - served_before
    assert served <= sum(size - kept[i] for i in item_ids) + 4 * 64 * 1024, "a download started over from zero"
