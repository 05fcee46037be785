"""On the real stack (daphne, Celery worker, beat): the setup wizard in a browser, and a settings
change made through the web process taking effect in the worker process at once."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.live import OWNER_PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RUN_ON_WORKER = """
import json
from workers.schedules import prune_history
print("RESULT " + json.dumps(prune_history.apply_async().get(timeout=60)))
"""


def _run_prune_on_worker(live) -> dict:
    output = live.manage("shell", "-c", RUN_ON_WORKER).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def test_worker_process_uses_a_setting_saved_through_the_web_at_once(live_stack_factory):
    live = live_stack_factory(web_processes=1, workers=1, beat=False)
    live.setup_owner()
    headers = {"Authorization": f"Bearer {live.login()}"}
    with live.client(headers=headers) as client:
        response = client.put("/api/config", json={"history_retention_days": 0})
        assert response.status_code == 200, response.text
        assert _run_prune_on_worker(live) == {"status": "disabled"}

        started = time.monotonic()
        assert client.put("/api/config", json={"history_retention_days": 14}).status_code == 200
        result = _run_prune_on_worker(live)
        assert result["status"] == "ok", result
        assert time.monotonic() - started < 60

        assert client.get("/api/config").json()["history_retention_days"] == 14


@pytest.mark.browser
def test_setup_wizard_sets_password_library_and_languages(live_stack_factory, page):
    live = live_stack_factory(web_processes=1, workers=1)
    library = live.data_dir / "my-anime"

    page.goto(live.url("/"))
    assert page.url.endswith("/setup")
    page.fill("#password", OWNER_PASSWORD)
    page.fill("#password-confirm", OWNER_PASSWORD)
    page.click("#setup-form button[type=submit]")

    page.wait_for_selector("#library-form", state="visible")
    assert page.inner_text("#setup-step-number") == "2"
    assert page.input_value("#library-path") == str(live.data_dir / "library")  # prefilled default

    page.fill("#library-path", "relative/anime")
    page.click("#library-form button[type=submit]")
    page.wait_for_selector("#library-path.is-invalid")
    assert "absolute" in page.inner_text("[data-error-for=library_path]")

    page.fill("#library-path", str(library))
    page.click('#language-order li[data-value="en-sub"] button[data-move=up]')
    page.click('#language-order li[data-value="en-sub"] button[data-move=up]')
    page.uncheck('#language-order li[data-value="de-sub"] input')
    page.click("#library-form button[type=submit]")
    page.wait_for_url(live.url("/"))

    token = live.login()
    config = httpx.get(live.url("/api/config"), headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    assert config["library_path"] == str(library)
    assert config["language_preference"] == ["en-sub", "de"]
    assert config["setup_completed"] is True
    assert library.is_dir()
