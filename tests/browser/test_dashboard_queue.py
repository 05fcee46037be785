"""The downloads page says why nothing happens and lets the owner act, on the real stack with real workers.

A catalog site that blocks us is shown with its retry time (on the dashboard and on each waiting item) and
"Try now" clears the wait once the site answers again; waiting items are dragged into a new order across
priorities and moved to the top; the overview shows disk space, library totals and workers by node; every
new part fits a 360 px phone.
"""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pytest

from tests.browser.fixtures import collect_console_errors, log_in, screenshot_for_docs
from tests.fakesite.plugin import FAST_CATALOG_ENV

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

SEED = """
from apps.library import services as library
from apps.library.models import Episode
series = library.add_series("aniworld", "moonlit-blade")
episodes = Episode.objects.filter(season__series=series).order_by("season__number", "number")
print("SEEDED", series.pk, " ".join(str(episode.pk) for episode in episodes))
"""


@pytest.fixture
def stack(live_stack_factory, fake_site):
    return live_stack_factory(web_processes=1, workers=1, extra_env={**fake_site.env(), **FAST_CATALOG_ENV})


def seed(live) -> list[int]:
    output = live.manage("shell", "-c", SEED).stdout
    numbers = [int(value) for value in output.split("SEEDED")[1].split()]
    return numbers[1:]


def api(live):
    return httpx.Client(base_url=live.url(""), headers={"Authorization": f"Bearer {live.login()}"}, timeout=30)


def new_page(browser, width: int = 1366, height: int = 850):
    context = browser.new_context(viewport={"width": width, "height": height}, timezone_id="UTC")
    page = context.new_page()
    return context, page, collect_console_errors(page)


def assert_fits(page, where: str) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{where}: the page is {widths[0]} px wide in a {widths[1]} px viewport"


def test_a_blocking_site_is_shown_with_its_time_and_try_now_clears_the_wait(stack, fake_site, browser):
    live = stack
    live.setup_owner()
    episodes = seed(live)
    client = api(live)
    fake_site.set_scenario(block_prefix="/aw/")
    queued = client.post("/api/queue/add", json={"episode_ids": episodes[:2]}).json()["queued"]
    ids = [item["id"] for item in queued]

    def waiting_for_the_site() -> bool:
        pending = client.get("/api/queue/status").json()["pending"]
        return any(item["wait"] and item["wait"]["kind"] == "site_blocked" for item in pending)

    live.wait_until(waiting_for_the_site, 90, "a worker to meet the block and the item to wait for the site")
    sites = {site["site"]: site for site in client.get("/api/catalog/sites").json()["sites"]}
    assert sites["aniworld"]["state"] == "blocked"
    retry_at = datetime.fromisoformat(sites["aniworld"]["retry_at"].replace("Z", "+00:00"))

    context, page, errors = new_page(browser)
    log_in(page, live)
    badge = page.locator("#site-states [data-site=aniworld]")
    badge.wait_for()
    assert f"aniworld.to: blocked until {retry_at:%H:%M}" in badge.inner_text()
    assert "s.to: reachable" in page.inner_text("#site-states [data-site=sto]")
    page.wait_for_selector("#pending-list .wait-reason")
    reasons = page.locator("#pending-list .wait-reason").all_inner_texts()
    assert any(re.search(r"aniworld\.to is blocking us, next try \d\d:\d\d", text) for text in reasons), reasons
    screenshot_for_docs(page, "downloads-site-blocked-desktop-light")
    for width, height in ((390, 844), (360, 740)):  # the site's state and the reasons fit a phone
        phone, phone_page, phone_errors = new_page(browser, width, height)
        log_in(phone_page, live)
        phone_page.wait_for_selector("#site-states [data-site=aniworld][data-state=blocked] [data-site-try]")
        phone_page.wait_for_selector("#pending-list .wait-reason")
        assert_fits(phone_page, f"a blocked site at {width} px")
        if width == 390:
            phone_page.locator("#site-states").scroll_into_view_if_needed()
            screenshot_for_docs(phone_page, "downloads-site-blocked-phone-light")
        assert phone_errors == []
        phone.close()

    # Still blocked: "Try now" asks, says so and keeps the wait.
    page.click("[data-site-try=aniworld]")
    page.wait_for_selector("#toasts .alert:has-text('still blocks us')")
    assert client.get("/api/catalog/sites").json()["sites"][0]["state"] == "blocked"

    # The site answers again: "Try now" clears the wait and the downloads run.
    fake_site.set_scenario(block_prefix=None)
    page.click("[data-site-try=aniworld]")
    page.wait_for_selector("#site-states [data-site=aniworld][data-state=reachable]")
    page.wait_for_selector("#toasts .alert:has-text('answers again')")

    def both_completed() -> bool:
        completed = {item["id"] for item in client.get("/api/queue/status").json()["completed"]}
        return set(ids) <= completed

    live.wait_until(both_completed, 120, "the released downloads to complete")
    facts = page.locator(f"#history-list [data-item-id='{ids[0]}'] .item-facts")
    facts.wait_for()
    assert re.search(r"German \w+ · \w+ · [\d.]+ (KiB|MiB)", facts.inner_text()), facts.inner_text()
    assert errors == []
    context.close()


def test_waiting_items_are_dragged_across_the_whole_list_and_moved_to_the_top(stack, browser):
    live = stack
    live.setup_owner()
    episodes = seed(live)
    client = api(live)
    client.post("/api/queue/stop")
    normal = [item["id"] for item in client.post("/api/queue/add", json={"episode_ids": episodes[:3]}).json()["queued"]]
    high = [
        item["id"]
        for item in client.post("/api/queue/add", json={"episode_ids": episodes[3:5], "priority": "high"}).json()[
            "queued"
        ]
    ]

    def order() -> list[int]:
        return [item["id"] for item in client.get("/api/queue/status").json()["pending"]]

    assert order() == high + normal
    context, page, errors = new_page(browser)
    log_in(page, live)
    page.wait_for_selector(f"#pending-list [data-item-id='{normal[2]}']")

    def drag(source: int, target: int, y: int, expected: list[int], what: str) -> None:
        """Drag one row onto another; a live refresh that redraws the list just as the drag starts loses
        that drag (as it would a person's), so a lost drag is tried again, at most three times."""
        for attempt in range(3):
            page.drag_and_drop(
                f"#pending-list [data-item-id='{source}']",
                f"#pending-list [data-item-id='{target}']",
                target_position={"x": 40, "y": y},
            )
            try:
                live.wait_until(lambda: order() == expected, 5 if attempt < 2 else 15, what)
                return
            except AssertionError:
                if attempt == 2:
                    raise

    # Drag the last normal item before the first high one: it becomes high and first.
    drag(normal[2], high[0], 4, [normal[2], *high, *normal[:2]], "the dragged item to lead the queue")
    page.wait_for_selector(f"#pending-list [data-item-id='{normal[2]}'] .badge:has-text('High')")
    assert page.locator("#pending-list [data-item-id]").first.get_attribute("data-item-id") == str(normal[2])

    # Drag a high item below the normal ones: it becomes normal and last.
    drag(high[0], normal[1], 60, [normal[2], high[1], *normal[:2], high[0]], "the item to move down")

    page.wait_for_selector(
        f"#pending-list [data-item-id]:last-child[data-item-id='{high[0]}'] .badge:has-text('Normal')"
    )

    # "Move to top" (the keyboard's way too, next to the arrows).
    page.wait_for_selector(f"#pending-list [data-item-id='{high[0]}'] [data-action=top]:enabled")
    page.focus(f"#pending-list [data-item-id='{high[0]}'] [data-action=top]")
    page.keyboard.press("Enter")
    live.wait_until(lambda: order()[0] == high[0], 15, "move to top")
    page.wait_for_selector(f"#pending-list [data-item-id]:first-child[data-item-id='{high[0]}']")
    assert page.is_disabled(f"#pending-list [data-item-id='{high[0]}'] [data-action=top]")
    assert errors == []
    context.close()


def test_overview_shows_disk_library_and_workers_by_node_and_fits_phones(stack, browser):
    live = stack
    live.setup_owner()
    seed(live)
    for width, height, name in ((1366, 850, "desktop"), (390, 844, "phone"), (360, 740, None)):
        context, page, errors = new_page(browser, width, height)
        log_in(page, live)
        page.wait_for_selector("#library-totals [data-total=episodes]")
        assert page.inner_text("#library-totals [data-total=series]") == "1"
        assert page.inner_text("#library-totals [data-total=episodes]") == "7"
        assert page.inner_text("#library-totals [data-total=missing]") == "7"
        assert re.search(r"free of", page.inner_text("#disk-text"))
        page.wait_for_selector("#worker-nodes [data-node]")
        assert "worker(s)" in page.inner_text("#worker-nodes")
        assert page.locator("#site-states [data-state=reachable]").count() == 2
        assert_fits(page, f"dashboard overview at {width} px")
        if name:
            page.locator("#overview").scroll_into_view_if_needed()
            screenshot_for_docs(page, f"dashboard-overview-{name}-light")
        assert errors == []
        context.close()
