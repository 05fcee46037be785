"""The settings page in headless Chromium on the real stack: loads the config, shows every field error,
saves, keeps secrets, runs the live checks."""

from __future__ import annotations

import httpx
import pytest

from apps.configuration.defaults import DEFAULT_HOSTER_PREFERENCE
from tests.browser.fixtures import screenshot
from tests.live import OWNER_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]


def test_settings_page_shows_errors_saves_and_keeps_secrets(live_stack_factory, page):
    live = live_stack_factory()
    live.setup_owner()
    headers = {"Authorization": f"Bearer {live.login()}"}

    def stored() -> dict:
        return httpx.get(live.url("/api/config"), headers=headers, timeout=30).json()

    page.goto(live.url("/login?next=/settings"))
    page.fill("#password", OWNER_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live.url("/settings"))
    page.wait_for_function("() => document.getElementById('settings-revision').textContent.includes('revision')")
    assert page.input_value("#f-max_concurrent_downloads") == "2"
    assert page.is_checked('#language_preference li[data-value="de"] input')

    page.fill("#f-max_concurrent_downloads", "0")
    page.fill("#f-library_path", "relative/anime")
    page.click("#settings-form button[type=submit]")
    page.wait_for_selector("#f-max_concurrent_downloads.is-invalid")
    assert page.is_visible("#f-library_path.is-invalid")
    assert "absolute" in page.inner_text("[data-error-for=library_path]")
    assert "nothing was saved" in page.inner_text("#settings-status")
    assert stored()["revision"] == 0
    screenshot(page, "settings-errors")

    library = live.data_dir / "anime"
    library.mkdir()
    page.fill("#f-max_concurrent_downloads", "4")
    page.fill("#f-library_path", str(library))
    page.click('#hoster_preference li[data-value="VOE"] button[data-move=up]')
    assert not page.is_checked("#f-hoster_order_automatic")
    page.check("#f-hoster_order_automatic")
    page.fill("#f-jellyfin_url", "http://jellyfin.local:8096")
    page.fill("#f-jellyfin_api_key", "jf-browser-secret")
    page.fill("#f-speed_limit_bytes", "500")
    page.click("#settings-form button[type=submit]")
    page.wait_for_selector("#settings-status.alert-success")

    config = stored()
    assert config["max_concurrent_downloads"] == 4
    assert config["library_path"] == str(library)
    order = list(DEFAULT_HOSTER_PREFERENCE)  # Vidoza, Vidmoly, VOE, …: VOE moved up by one
    assert order[:3] == ["Vidoza", "Vidmoly", "VOE"]
    assert config["hoster_preference"] == ["Vidoza", "VOE", "Vidmoly", *order[3:]]
    assert config["speed_limit_bytes"] == 500 * 1024
    assert config["hoster_order_automatic"] is True
    assert config["jellyfin_api_key"] == "********"
    assert page.input_value("#f-jellyfin_api_key") == "********"
    assert "jf-browser-secret" not in page.content()

    # Saving the form again as shown keeps the secret (checked through the manage shell).
    page.fill("#f-max_retries", "5")
    page.click("#settings-form button[type=submit]")
    page.wait_for_function("() => document.querySelector('#history-rows').textContent.includes('max_retries')")
    assert stored()["max_retries"] == 5
    shell = live.manage(
        "shell", "-c", "from apps.configuration.selectors import get_settings; print(get_settings().jellyfin_api_key)"
    )
    assert shell.stdout.strip().splitlines()[-1] == "jf-browser-secret"

    page.click("#check-settings")
    page.wait_for_selector("#check-results:not(.d-none)")
    assert "ffmpeg" in page.inner_text("#check-list")
    assert "S01E03" in page.inner_text("#template-preview")
