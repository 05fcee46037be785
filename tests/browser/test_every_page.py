"""Every page at desktop and phone sizes, in the light and the dark theme, on the real stack.

Checks on every page and size: nothing is wider than the viewport (at 360 and 390 px too), no
Content-Security-Policy violation or script error reaches the console. Also: the navigation collapses
on phones, the theme follows the system and a chosen theme is remembered (by the admin too), the
downloads page asks before deleting partial files or clearing history, shows cancelled items as
cancelled, failed ones as a one-line summary with details, enables only the useful queue commands,
holds and releases a waiting item, applies bulk actions to chosen items, and keeps toasts short and few. Search keeps its query in the URL,
the library filters as you type, a series lists its seasons in order with films and specials last.
Screenshots of every page at both sizes and in both themes go to docs/screenshots/ (shown in README).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from tests.browser.fixtures import (
    SCREENSHOTS,
    collect_console_errors,
    log_in,
    record_page_timing,
    screenshot_for_docs,
)
from tests.fakesite.plugin import FAST_CATALOG_ENV

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]


@dataclass(frozen=True)
class Size:
    name: str
    width: int
    height: int

    @property
    def phone(self) -> bool:
        return self.width < 576


DESKTOP = Size("desktop", 1366, 850)
PHONE = Size("phone", 390, 844)
SMALL_PHONE = Size("phone-360", 360, 740)

LONG_ERROR = (
    "no hoster worked: VOE timed out after 30 s; Vidoza answered 404 for "
    "https://vidoza.example/embed-averyveryveryveryveryveryveryveryveryverylongidentifierwithoutanyspaces.html\n"
    "VOE: https://voe.example/e/abcdefghijklmnopqrstuvwxyz0123456789: read timed out\n"
    "Vidoza: 404 Not Found"
)

SEED = """
from django.utils import timezone
from apps.library import services as library
from apps.library.models import Episode
from apps.queue import services as queue
from apps.queue.models import DownloadItem

queue.stop_queue()  # nothing is dispatched: the seeded items keep their states
series = library.add_series("aniworld", "moonlit-blade")
episodes = list(Episode.objects.filter(season__series=series).order_by("season__number", "number"))
items = [item["id"] for item in queue.enqueue_episodes([episode.pk for episode in episodes])["queued"]]
now = timezone.now()
DownloadItem.objects.filter(pk=items[0]).update(state="completed", finished_at=now, bytes_done=5_000_000, bytes_total=5_000_000)
DownloadItem.objects.filter(pk=items[1]).update(state="failed", finished_at=now, attempts=3, last_error={error!r})
queue.cancel_item(items[2])
DownloadItem.objects.filter(pk=items[3]).update(bytes_done=1_500_000, bytes_total=6_000_000)
print("SEEDED", series.pk, " ".join(map(str, items)))
"""


def pages(series_id: int) -> dict[str, tuple[str, str]]:
    """name -> (path, selector that shows the page has rendered its data)."""
    return {
        "dashboard": ("/", "#history-list [data-item-id]"),
        "library": ("/library", "[data-series-id] .series-title"),
        "series": (f"/library/{series_id}", "[data-episode-id]"),
        "search": ("/search", "#search-form"),
        "settings": ("/settings", "#settings-revision:has-text('revision')"),
        "admin": ("/admin/", "#content"),
    }


def assert_fits(page, where: str) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{where}: the page is {widths[0]} px wide in a {widths[1]} px viewport"


def new_page(browser, size: Size, scheme: str, storage_state=None):
    context = browser.new_context(
        viewport={"width": size.width, "height": size.height},
        color_scheme=scheme,
        is_mobile=size.phone,
        has_touch=size.phone,
        storage_state=storage_state,
    )
    page = context.new_page()
    return context, page, collect_console_errors(page)


@pytest.fixture
def stack(live_stack_factory, fake_site):
    return live_stack_factory(web_processes=1, workers=1, extra_env={**fake_site.env(), **FAST_CATALOG_ENV})


def seed(live) -> tuple[int, list[int]]:
    output = live.manage("shell", "-c", SEED.format(error=LONG_ERROR)).stdout
    numbers = [int(value) for value in output.split("SEEDED")[1].split()]
    return numbers[0], numbers[1:]


def test_every_page_fits_phones_and_desktops_in_both_themes_without_csp_violations(
    stack, browser, tmp_path, record_property
):
    live = stack
    sizes_and_schemes = [
        (DESKTOP, "light"),
        (DESKTOP, "dark"),
        (PHONE, "light"),
        (PHONE, "dark"),
        (SMALL_PHONE, "light"),
    ]

    # Before the owner exists: the setup page; then the login page.
    for size, scheme in sizes_and_schemes:
        context, page, errors = new_page(browser, size, scheme)
        page.goto(live.url("/setup"))
        page.wait_for_selector("#setup-form")
        assert_fits(page, f"setup at {size.width} px")
        if size is not SMALL_PHONE:
            screenshot_for_docs(page, f"setup-{size.name}-{scheme}")
        assert errors == [], f"setup at {size.name}/{scheme}: {errors}"
        context.close()

    live.setup_owner()
    series_id, _items = seed(live)
    state_file = tmp_path / "owner.json"
    context, page, errors = new_page(browser, DESKTOP, "light")
    page.goto(live.url("/login"))
    screenshot_for_docs(page, "login-desktop-light")
    log_in(page, live)
    context.storage_state(path=str(state_file))
    context.close()

    for size, scheme in sizes_and_schemes:
        context, page, errors = new_page(browser, size, scheme, storage_state=str(state_file))
        for name, (path, ready) in pages(series_id).items():
            page.goto(live.url(path))
            page.wait_for_selector(ready)
            if size is DESKTOP and scheme == "light":
                record_page_timing(page, record_property, name)
            if name == "search":
                page.fill("input[name=q]", "moon")
                page.click("#search-form button[type=submit]")
                page.wait_for_selector(".search-result")
                if size is DESKTOP and scheme == "light":
                    assert "q=moon" in page.url, "the query is kept in the address"
                    page.reload()
                    page.wait_for_selector(".search-result")
                    assert page.input_value("input[name=q]") == "moon"
            if name == "dashboard":
                page.wait_for_selector("[data-check=workers]")
            if name == "series":
                titles = page.locator("#seasons .season-title").all_inner_texts()
                assert [title.lower() for title in titles] == ["season 1", "season 2", "films & specials"], titles
            if name == "library" and size is DESKTOP and scheme == "light":
                page.fill("#library-filters input[name=search]", "no such series")  # filters as you type
                page.wait_for_selector("#library-status:has-text('0 series')")
                page.fill("#library-filters input[name=search]", "")
                page.wait_for_selector("[data-series-id] .series-title")
            expected = "dark" if scheme == "dark" else "light"
            theme_attribute = "data-theme" if name == "admin" else "data-bs-theme"
            if name != "admin":
                assert page.get_attribute("html", theme_attribute) == expected, f"{name} follows the system theme"
            assert_fits(page, f"{name} at {size.width} px ({scheme})")
            if size is not SMALL_PHONE:
                screenshot_for_docs(page, f"{name}-{size.name}-{scheme}")
        assert errors == [], f"console errors at {size.name}/{scheme}: {errors}"
        context.close()

    # The API documentation (Swagger UI from drf-spectacular-sidecar) runs under the same policy.
    context, page, errors = new_page(browser, DESKTOP, "light", storage_state=str(state_file))
    page.goto(live.url("/api/docs"))
    page.wait_for_selector(".swagger-ui .info")
    assert errors == [], f"console errors on /api/docs: {errors}"
    context.close()

    assert len(list(SCREENSHOTS.glob("*-desktop-dark.png"))) >= 7


def test_phone_navigation_collapses_and_the_theme_choice_is_remembered(stack, browser, tmp_path):
    live = stack
    live.setup_owner()
    context, page, errors = new_page(browser, PHONE, "light")
    log_in(page, live)
    assert page.is_visible("#first-run-hint")  # nothing in the library yet
    assert_fits(page, "the empty dashboard on a phone")
    screenshot_for_docs(page, "dashboard-empty-phone-light")
    assert page.is_visible(".navbar-toggler")
    assert not page.is_visible("#main-nav a:has-text('Settings')")
    page.click(".navbar-toggler")
    page.wait_for_selector("#main-nav a:has-text('Settings')", state="visible")
    assert page.is_visible("#logout-button")
    screenshot_for_docs(page, "navigation-phone-light")
    page.click("#main-nav a:has-text('Settings')")
    page.wait_for_url(live.url("/settings"))
    context.close()

    context, page, errors = new_page(browser, DESKTOP, "light")
    log_in(page, live)
    assert not page.is_visible(".navbar-toggler")
    assert page.is_visible("#main-nav a:has-text('Settings')")
    assert page.get_attribute("html", "data-bs-theme") == "light"
    page.click("[data-theme-toggle]")  # auto (light) -> dark
    assert page.get_attribute("html", "data-bs-theme") == "dark"
    page.reload()
    page.wait_for_selector("#queue-panel")
    assert page.get_attribute("html", "data-bs-theme") == "dark", "the choice survives a reload"
    page.goto(live.url("/admin/"))
    page.wait_for_selector("#content")
    assert page.get_attribute("html", "data-theme") == "dark", "the admin follows the same choice"
    page.goto(live.url("/library"))
    page.click("[data-theme-toggle]")  # dark -> light
    page.click("[data-theme-toggle]")  # light -> auto
    page.reload()
    assert page.get_attribute("html", "data-bs-theme") == "light"
    assert page.get_attribute("html", "data-theme-mode") == "auto"
    assert errors == []
    context.close()


def test_downloads_page_confirms_deleting_partials_and_clearing_history(stack, browser):
    live = stack
    live.setup_owner()
    _series_id, items = seed(live)
    completed, failed, cancelled, partial, waiting, other = items[:6]
    context, page, errors = new_page(browser, DESKTOP, "light")
    log_in(page, live)
    page.wait_for_selector(f"#history-list [data-item-id='{failed}']")

    # Only the useful queue commands: the seeded queue is stopped.
    assert page.is_enabled("[data-queue-action=start]")
    for action in ("pause", "resume", "stop"):
        assert page.is_disabled(f"[data-queue-action={action}]"), action

    # Cancelled is not failed; a failed item is one line with its details behind a control.
    cancelled_row = page.locator(f"#history-list [data-item-id='{cancelled}']")
    assert "Cancelled" in cancelled_row.inner_text()
    assert cancelled_row.locator(".bi-x-circle-fill").count() == 0
    failed_row = page.locator(f"#history-list [data-item-id='{failed}']")
    assert failed_row.locator("details summary").inner_text().startswith("no hoster worked")
    assert not failed_row.locator("details pre").is_visible()
    failed_row.locator("details summary").click()
    assert "Vidoza: 404 Not Found" in failed_row.locator("details pre").inner_text()
    assert_fits(page, "dashboard with an opened long error")

    # Removing a waiting item with a partial file asks first; "Keep" keeps it.
    row = page.locator(f"#pending-list [data-item-id='{partial}']")
    row.locator("[data-action=cancel]").click()
    page.wait_for_selector(".modal.show")
    assert "partial file" in page.inner_text(".modal.show")
    page.click(".modal.show button:has-text('Keep')")
    page.wait_for_selector(".modal", state="detached")
    token = live.login()
    status = httpx.get(live.url("/api/queue/status"), headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    assert partial in [item["id"] for item in status["pending"]]
    row.locator("[data-action=cancel]").click()
    page.click(".modal.show [data-confirm=yes]")
    page.wait_for_selector(f"#pending-list [data-item-id='{partial}']", state="detached")  # removed with its file

    # Hold and release one waiting item.
    page.click(f"#pending-list [data-item-id='{waiting}'] [data-action=hold]")
    page.wait_for_selector(f"#pending-list [data-item-id='{waiting}'][data-state=paused] >> text=on hold")
    page.click(f"#pending-list [data-item-id='{waiting}'] [data-action=release]")
    page.wait_for_selector(f"#pending-list [data-item-id='{waiting}'][data-state=pending]")

    # Bulk actions on chosen waiting items: priority, hold, release, remove (asked first).
    for item in (waiting, other):
        page.check(f"#pending-list [data-item-id='{item}'] .pending-choice")
    assert page.inner_text("#bulk-count") == "2 chosen"
    page.select_option("#bulk-priority", "high")
    page.wait_for_selector(f"#pending-list [data-item-id='{other}'] .badge:has-text('High')")
    assert "High" in page.inner_text(f"#pending-list [data-item-id='{waiting}'] .badge")
    assert page.inner_text("#bulk-count") == "none chosen"
    for item in (waiting, other):
        page.check(f"#pending-list [data-item-id='{item}'] .pending-choice")
    page.click("#bulk-hold")
    page.wait_for_selector(f"#pending-list [data-item-id='{other}'][data-state=paused]")
    page.wait_for_selector(f"#pending-list [data-item-id='{waiting}'][data-state=paused]")
    page.check("#choose-all-pending")
    page.click("#bulk-release")
    page.wait_for_selector(f"#pending-list [data-item-id='{other}'][data-state=pending]")
    for item in (waiting, other):
        page.check(f"#pending-list [data-item-id='{item}'] .pending-choice")
    page.click("#bulk-remove")
    page.wait_for_selector(".modal.show")
    assert "Remove 2 download(s)" in page.inner_text(".modal.show")
    page.click(".modal.show [data-confirm=yes]")
    page.wait_for_selector(f"#pending-list [data-item-id='{other}']", state="detached")
    assert page.locator(f"#pending-list [data-item-id='{waiting}']").count() == 0

    # Clearing the history asks first too.
    page.click("#clear-completed")
    page.wait_for_selector(".modal.show")
    page.click(".modal.show button:has-text('Keep')")
    page.wait_for_selector(".modal", state="detached")
    assert page.locator(f"#history-list [data-item-id='{completed}']").count() == 1
    page.click("#clear-completed")
    page.click(".modal.show [data-confirm=yes]")
    page.wait_for_selector(f"#history-list [data-item-id='{completed}']", state="detached")

    page.click("[data-queue-action=start]")
    page.wait_for_selector("[data-queue-action=pause]:enabled")
    assert page.is_disabled("[data-queue-action=start]")

    # Toasts stay short and few.
    page.evaluate("() => { for (let i = 0; i < 5; i++) Api.toast('A long message. '.repeat(40), 'warning'); }")
    toasts = page.locator("#toasts .alert")
    assert toasts.count() == 3
    assert all(len(text) <= 140 for text in toasts.all_inner_texts())
    assert errors == []
    context.close()
