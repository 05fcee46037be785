"""The realtime layer on the real stack: two daphne processes, a Celery worker, Redis.

Events are published from separate processes (a ``manage.py shell``, which is what a
worker does: a process of its own talking to Redis; the queue API in a web process),
and read by a browser-style client (session cookie + Origin) on one web process and an
API client (token in the first frame) on the other.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from aniworld_site.stack import PROJECT_DIR
from tests.fakesite.plugin import FAST_CATALOG_ENV
from tests.live import LiveStack
from tests.realtime.live_client import LiveClient, browser_session, origin_of, raw_connect

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PUBLISH_ONE_DOWNLOAD = """
import time
from apps.realtime.publish import ProgressPublisher
progress = ProgressPublisher.for_download({item}, series_id=42)
for percent in range(1, 101, 2):
    progress.update(percent=percent, downloaded_bytes=percent * 1000, total_bytes=100000)
    time.sleep(0.02)
assert progress.complete(path="Show (2020)/Season 01/Show - S01E01.mkv")
print("sent", progress.sent, "coalesced", progress.coalesced)
"""


def publish_download(live: LiveStack, item: int) -> str:
    return live.manage("shell", "-c", PUBLISH_ONE_DOWNLOAD.format(item=item)).stdout


def ws_status(live: LiveStack, token: str, web: int = 0) -> dict:
    response = httpx.get(live.url("/ws/status", web), headers={"Authorization": f"Bearer {token}"}, timeout=15)
    assert response.status_code == 200, response.text
    return response.json()


def assert_one_download_seen(client: LiveClient, item: int) -> None:
    complete = client.wait_for(lambda f: f["type"] == "download_complete" and f["data"]["item_id"] == item, 30)
    assert complete["data"]["series_id"] == 42
    client.sync()
    mine = [f for f in client.received if f["data"].get("item_id") == item]
    progress = [f["data"]["percent"] for f in mine if f["type"] == "download_progress"]
    assert 1 <= len(progress) <= 8, progress  # 50 updates in ~1 s, throttled to a few frames a second
    assert progress == sorted(progress) and progress[0] == 1
    assert [f["type"] for f in mine][-1] == "download_complete"
    assert len([f for f in mine if f["type"] == "download_complete"]) == 1  # in two rooms, delivered once


def test_events_from_other_processes_reach_clients_on_both_web_processes(live_stack_factory):
    live = live_stack_factory(web_processes=2, workers=1)
    live.setup_owner()
    token = live.login(web=1)
    browser = LiveClient(live, web=0, session=browser_session(live, 0), rooms=["downloads", "series:42", "queue"])
    api = LiveClient(live, web=1, token=token, rooms=["downloads", "series:42", "queue"])
    assert browser.open()["data"]["auth"] == "session"
    assert api.open()["data"]["auth"] == "token"
    assert browser.connection_id != api.connection_id

    status = ws_status(live, token, web=0)
    assert status["connections"] == 2 and len(status["processes"]) == 2
    assert status["rooms"] == {"downloads": 2, "queue": 2, "series:42": 2}

    output = publish_download(live, item=77)
    assert "sent" in output
    for client in (browser, api):
        assert_one_download_seen(client, 77)

    # A queue change made through the API of web process B reaches the browser on process A.
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.post(live.url("/api/queue/pause", 1), headers=headers, timeout=15).status_code < 300
    for client in (browser, api):
        client.wait_for(lambda f: f["type"] == "queue_paused", 15)
    assert httpx.post(live.url("/api/queue/resume", 1), headers=headers, timeout=15).status_code < 300
    for client in (browser, api):
        client.wait_for(lambda f: f["type"] == "queue_resumed", 15)
    browser.close()
    api.close()


def test_unauthenticated_foreign_and_malformed(live_stack_factory):
    live = live_stack_factory(web_processes=1, workers=0, beat=False, wait=False)
    live.wait_until(lambda: live.health()[1]["checks"]["database"]["ok"], 60, "web to answer")
    live.setup_owner()
    token = live.login()
    session = browser_session(live)

    # A foreign page riding on the owner's cookie is refused at the handshake.
    with pytest.raises(InvalidStatus) as refused:
        raw_connect(live.ws_url(), origin="http://evil.example", additional_headers={"Cookie": f"sessionid={session}"})
    assert refused.value.response.status_code == 403
    # So is another service on the owner's machine: same host, another port.
    other_port = origin_of(live).rsplit(":", 1)[0] + ":9999"
    with pytest.raises(InvalidStatus) as refused:
        raw_connect(live.ws_url(), origin=other_port, additional_headers={"Cookie": f"sessionid={session}"})
    assert refused.value.response.status_code == 403

    # No credentials: an error frame saying why, then close 4401 after the auth timeout.
    anonymous = LiveClient(live)
    anonymous.ws = raw_connect(live.ws_url(), origin=origin_of(live))
    closed = anonymous.wait_closed(15)
    assert closed.code == 4401 and closed.frames[-1]["data"]["code"] == "auth_timeout"

    # A token in the URL is never read.
    in_url = LiveClient(live)
    in_url.ws = raw_connect(live.ws_url(f"/ws/connect?token={token}"))
    closed = in_url.wait_closed(15)
    assert closed.code == 4401 and all(f["type"] != "connected" for f in closed.frames)

    # A wrong token.
    forged = LiveClient(live)
    forged.ws = raw_connect(live.ws_url())
    forged.send(action="auth", token=token[:-6] + "AAAAAA")
    closed = forged.wait_closed(10)
    assert closed.code == 4401 and closed.frames[-1]["data"]["code"] == "invalid_token"

    # Malformed frames are answered and survived.
    client = LiveClient(live, token=token, rooms=["downloads"])
    client.open()
    for bad, code in [
        ("{oops", "bad_json"),
        ('{"action": "fly"}', "unknown_action"),
        ('{"action": "join", "room": "x"}', "unknown_room"),
    ]:
        client.ws.send(bad)
        assert client.wait_for(lambda f: f["type"] == "error", 10)["data"]["code"] == code
    client.ws.send(b"\x00binary")
    assert client.wait_for(lambda f: f["type"] == "error", 10)["data"]["code"] == "text_only"
    client.sync()

    # Logging out closes the token's sockets at once: the server closes them, the client need not act.
    assert httpx.post(live.url("/api/auth/logout"), headers={"Authorization": f"Bearer {token}"}).status_code == 204
    closed = client.wait_closed(5)
    assert closed.code == 4401 and closed.frames[-1]["data"]["code"] == "logged_out"


def test_client_reconnects_after_web_process_restart_and_resumes(live_stack_factory):
    live = live_stack_factory(web_processes=2, workers=1)
    live.setup_owner()
    client = LiveClient(live, web=0, session=browser_session(live, 0), rooms=["downloads"])
    client.open()
    publish_download(live, item=1)
    assert_one_download_seen(client, 1)
    first_id = client.connection_id

    live.stack.restart_child("web1")
    closed = client.wait_closed(30)
    assert closed.code in (1000, 1001, 1006, 1011, None)
    attempts = client.open_with_retries(60)
    assert attempts >= 1 and client.connection_id != first_id

    publish_download(live, item=2)
    assert_one_download_seen(client, 2)
    token = live.login(web=1)
    assert ws_status(live, token, web=1)["rooms"] == {"downloads": 1}


def test_status_counts_both_processes_and_sweeps_a_killed_one(live_stack_factory):
    live = live_stack_factory(web_processes=2, workers=0, beat=False, wait=False)
    for web in (0, 1):
        live.wait_until(lambda web=web: live.health(web)[1]["checks"]["database"]["ok"], 60, "web to answer")
    live.setup_owner()
    token = live.login()
    on_a = [LiveClient(live, web=0, token=token, rooms=["downloads"]) for _ in range(2)]
    on_b = [LiveClient(live, web=1, token=token, rooms=["queue", "series:9"]) for _ in range(3)]
    for client in on_a + on_b:
        client.open()
    status = ws_status(live, token, web=0)
    assert status["connections"] == 5
    assert status["rooms"] == {"downloads": 2, "queue": 3, "series:9": 3}
    assert sorted(p["connections"] for p in status["processes"]) == [2, 3]
    assert ws_status(live, token, web=1)["connections"] == 5

    on_b[0].close()
    deadline = time.monotonic() + 10
    while ws_status(live, token)["connections"] != 4:
        assert time.monotonic() < deadline, "a closed socket was not unregistered"
        time.sleep(0.2)

    web2 = live.stack.child("web2")
    web2.process.kill()  # no goodbye: only the expired heartbeat tells
    web2.process.wait()
    deadline = time.monotonic() + 40
    while True:
        status = ws_status(live, token, web=0)
        if status["connections"] == 2:
            break
        assert time.monotonic() < deadline, f"the killed process's entries were not swept: {status}"
        time.sleep(1)
    assert len(status["processes"]) == 1 and status["rooms"] == {"downloads": 2}
    for client in on_a:
        client.sync()


SLOW_CLIENT_FLOOD = """
import os
from apps.realtime.publish import publish
for item in range(1500):
    publish("download_complete", {"item_id": item, "padding": os.urandom(10000).hex()})
publish("system_info", {"code": "flood_over", "message": "done"})
"""


def test_client_that_stops_reading_is_dropped_and_others_keep_up(live_stack_factory):
    """30 MB of events: the client that never reads is closed (4008) instead of buffering them all."""
    live = live_stack_factory(web_processes=1, workers=0, beat=False, wait=False)
    live.wait_until(lambda: live.health()[1]["checks"]["database"]["ok"], 60, "web to answer")
    live.setup_owner()
    token = live.login()
    reader = LiveClient(live, token=token, rooms=["downloads", "system"])
    reader.open()
    stalled = LiveClient(live, token=token, rooms=["downloads"])
    stalled.open()  # from now on nobody calls recv(): its reader thread stops at max_queue, TCP fills up
    flood = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", SLOW_CLIENT_FLOOD], cwd=PROJECT_DIR, env=live.env
    )
    try:
        reader.wait_for(lambda f: f["type"] == "system_info" and f["data"]["code"] == "flood_over", 120)
    finally:
        assert flood.wait(timeout=120) == 0
    assert len(reader.events("download_complete")) > 100
    deadline = time.monotonic() + 30
    while (status := ws_status(live, token))["connections"] != 1:
        assert time.monotonic() < deadline, status
        time.sleep(0.5)
    assert f"closing slow client {stalled.connection_id}" in live.log_path.read_text()
    reader.sync()
    closed = stalled.wait_closed(30)  # its backlog, then the end
    assert closed.code in (4008, 1006, None)


class NodeTab:
    """apps/web/static/web/realtime.js running under Node as a logged-in browser tab."""

    def __init__(self, live: LiveStack, session: str, web: int = 0):
        driver = Path(__file__).with_name("realtime_js_driver.mjs")
        self.process = subprocess.Popen(
            ["node", "--experimental-websocket", "--no-warnings", str(driver), live.url("", web), session],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[dict] = queue.Queue()
        self.seen: list[dict] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.process.stdout:
            self.lines.put(json.loads(line))

    def command(self, **command) -> None:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def wait_for(self, predicate, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                item = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.seen.append(item)
            if predicate(item):
                return item
        raise AssertionError(f"the JS client did not report it within {timeout}s; saw {self.seen[-8:]}")

    def frame(self, frame_type: str, timeout: float = 30, **data) -> dict:
        def matches(item: dict) -> bool:
            frame = item.get("frame")
            return (
                bool(frame) and frame["type"] == frame_type and all(frame["data"].get(k) == v for k, v in data.items())
            )

        return self.wait_for(matches, timeout)["frame"]

    def close(self) -> None:
        if self.process.poll() is None:
            self.command(close=True)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to run apps/web/static/web/realtime.js")
def test_dashboard_js_client_reconnects_rejoins_and_refetches_queue_status(live_stack_factory):
    live = live_stack_factory(web_processes=1, workers=1)
    live.setup_owner()
    tab = NodeTab(live, browser_session(live))
    try:
        tab.command(join="downloads")
        first = tab.frame("connected")
        assert first["data"]["auth"] == "session"
        tab.frame("queue_status")  # fetched over HTTP after connecting
        publish_download(live, item=5)
        tab.frame("download_complete", item_id=5)

        live.stack.restart_child("web")
        tab.wait_for(lambda item: item.get("state", {}).get("state") == "reconnecting", 30)
        second = tab.frame("connected", timeout=60)
        assert second["data"]["connection_id"] != first["data"]["connection_id"]
        tab.frame("queue_status")  # nothing missed while away: a fresh snapshot
        publish_download(live, item=6)  # the room was re-joined without being asked
        assert tab.frame("download_complete", item_id=6)["data"]["series_id"] == 42
    finally:
        tab.close()


ADD_SERIES = """
from apps.library.models import Episode
from apps.library.services import add_series
series = add_series("aniworld", "moonlit-blade")
episode = Episode.objects.filter(season__series=series).order_by("season__number", "number").first()
print("IDS", series.pk, episode.pk)
"""


def test_a_real_download_run_by_the_worker_reaches_clients_on_both_web_processes(live_stack_factory, fake_catalog):
    """The issue's proof: progress and completion of one download, run by the Celery worker, on A and on B."""
    live = live_stack_factory(web_processes=2, workers=1, extra_env={**fake_catalog.env(), **FAST_CATALOG_ENV})
    live.setup_owner()
    token = live.login(web=1)
    browser = LiveClient(live, web=0, session=browser_session(live, 0), rooms=["downloads"])
    api = LiveClient(live, web=1, token=token, rooms=["downloads"])
    browser.open()
    api.open()
    series_id, episode_id = (int(v) for v in live.manage("shell", "-c", ADD_SERIES).stdout.split("IDS")[1].split())

    response = httpx.post(
        live.url(f"/api/anime/{series_id}/download", 1),
        json={"episode_ids": [episode_id]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code < 300, response.text
    completions = []
    for client in (browser, api):
        completions.append(client.wait_for(lambda f: f["type"] in ("download_complete", "download_failed"), 180))
    assert [c["type"] for c in completions] == ["download_complete", "download_complete"], completions
    item_id = completions[0]["data"]["item_id"]
    assert completions[1]["data"]["item_id"] == item_id
    for client, completion in zip((browser, api), completions, strict=True):
        progress = [f for f in client.events("download_progress") if f["data"]["item_id"] == item_id]
        assert progress, client.received
        assert client.received.index(progress[-1]) < client.received.index(completion)
