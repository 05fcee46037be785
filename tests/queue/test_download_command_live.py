"""``manage.py download … --wait`` against the real stack (daphne, a Celery worker, beat) and the fake site.

The command runs as its own process, as someone in a terminal would run it next to a
running cluster: it shares only the database and Redis with the stack.
"""

from __future__ import annotations

import pytest

from tests.fakesite.catalog import HOSTER_NAMES
from tests.queue.test_integration import queue_stack  # noqa: F401  (fixture)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WAIT = "240"


def test_download_command_waits_for_a_real_download_and_reports_failures(queue_stack, fake_site):  # noqa: F811
    live, api = queue_stack(workers=1)
    api.config(hoster_preference=["Vidoza", "VOE"], max_retries=0)
    episode_url = f"{fake_site.aniworld_url}/anime/stream/moonlit-blade/staffel-1/episode-2"
    fake_site.set_scenario(slow_bytes_per_second=40_000)  # a few seconds: the command sees it downloading

    done = live.manage("download", episode_url, "--wait", "--priority", "high", "--timeout", WAIT, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{output}\n{live.log_tail(120)}"
    assert "Added: Moonlit Blade (aniworld.to)" in output and "1 completed" in output
    assert "Moonlit Blade - S01E02" in output and "downloading from Vidoza" in output
    files = [path for path in (live.data_dir / "library").rglob("*S01E02*") if path.is_file()]
    assert files and files[0].stat().st_size > 1000, output
    assert files[0].relative_to(live.data_dir / "library").as_posix() in output  # the summary names the file

    fake_site.set_scenario(
        slow_bytes_per_second=None, dead_hosters=list(HOSTER_NAMES)
    )  # every hoster says "file not found"
    season_url = f"{fake_site.aniworld_url}/anime/stream/moonlit-blade/staffel-1"
    failed = live.manage("download", season_url, "--episodes", "3", "--wait", "--timeout", WAIT, check=False)
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, f"{output}\n{live.log_tail(120)}"
    assert "In the library: Moonlit Blade" in output and "1 failed" in output
    summary = output.split("Summary:", 1)[1]
    assert "failed     Moonlit Blade - S01E03" in summary and "No hoster could be resolved" in summary
    assert "Some downloads did not complete" in output
