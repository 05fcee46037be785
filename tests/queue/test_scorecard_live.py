"""The hoster scorecard on the real stack: daphne, a Celery worker, beat, Redis and the fake catalog site."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakesite.plugin import FAST_CATALOG_ENV
from tests.queue.test_integration import QUEUE_ENV, Api, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def completed(api: Api, item_id: int) -> dict[str, Any] | None:
    item = api.item(item_id)
    return item if item["state"] == "completed" else None


def test_a_dead_hoster_moves_behind_the_working_one_and_the_stats_show_both(live_stack_factory, fake_site):
    live = live_stack_factory(extra_env={**fake_site.env(), **FAST_CATALOG_ENV, **QUEUE_ENV}, workers=1)
    live.setup_owner()
    api = Api(live)
    api.config(max_concurrent_downloads=1, hoster_preference=["Vidoza", "Doodstream"], hoster_order_automatic=True)
    episodes = api.add_moonlit()

    fake_site.set_scenario(dead_hosters=["Vidoza"])
    (first,) = api.add([episodes[(1, 1)]])
    done = wait_for(lambda: completed(api, first), 90, "the download through the second hoster", live)
    assert done["hoster"] == "Doodstream" and done["attempts"] == 0

    hosters = api.call("GET", "/api/queue/stats")["hosters"]
    assert hosters["automatic_order"] is True
    assert hosters["order"]["aniworld"][:2] == ["Doodstream", "Vidoza"]
    scores = {row["hoster"]: row for row in hosters["scores"] if row["site"] == "aniworld"}
    assert scores["Vidoza"]["attempts"] == 1 and scores["Vidoza"]["failures"]["resolve_failed"] == 1
    assert scores["Vidoza"]["successes"] == 0 and scores["Vidoza"]["average_ttfb_seconds"] is None
    doodstream = scores["Doodstream"]
    assert doodstream["successes"] == doodstream["attempts"] == 1 and doodstream["success_rate"] == 1.0
    assert doodstream["average_ttfb_seconds"] > 0 and doodstream["throughput"] > 0
    assert doodstream["score"] > scores["Vidoza"]["score"]

    # Vidoza is back, yet the next download goes to Doodstream first and never asks Vidoza
    fake_site.set_scenario(dead_hosters=[])
    vidoza_requests = fake_site.requests_to("/hoster/vidoza/")
    assert vidoza_requests > 0  # the dead embed page was asked during the first download
    (second,) = api.add([episodes[(1, 3)]])
    done = wait_for(lambda: completed(api, second), 90, "the second download", live)
    assert done["hoster"] == "Doodstream"
    assert fake_site.requests_to("/hoster/vidoza/") == vidoza_requests
    doodstream = next(
        row for row in api.call("GET", "/api/queue/stats")["hosters"]["scores"] if row["hoster"] == "Doodstream"
    )
    assert doodstream["successes"] == 2

    # with the automatic order off, the configured order is back
    api.config(hoster_order_automatic=False)
    assert api.call("GET", "/api/queue/stats")["hosters"]["order"]["aniworld"][:2] == ["Vidoza", "Doodstream"]
