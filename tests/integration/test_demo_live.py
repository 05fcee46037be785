"""`make demo`, started as the README says (the Makefile's command): it serves, downloads, and starts again."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from aniworld_site.stack import PROJECT_DIR, free_port
from tests.fakesite.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.slow]

START_TIMEOUT = 240
DOWNLOAD_TIMEOUT = 180


class Demo:
    def __init__(self, process: subprocess.Popen, port: int):
        self.process = process
        self.port = port
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines[-80:])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_for(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"make demo exited with {self.process.returncode}\n{self.output()}")
            try:
                found = predicate()
            except (httpx.HTTPError, ValueError, KeyError):
                found = None
            if found:
                return found
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting for {what}\n{self.output()}")


@contextmanager
def make_demo(data_dir: Path) -> Iterator[Demo]:
    port = free_port()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ANIWORLD_", "DJANGO_", "DEMO_")) and name not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update({"ANIWORLD_PORT": str(port), "ANIWORLD_DATA_DIR": str(data_dir), "WORKER_CONCURRENCY": "1"})
    env["HEALTH_DETAILS"] = "everyone"  # the test waits on the worker check before it logs in
    process = subprocess.Popen(
        ["make", "-s", "demo"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    demo = Demo(process, port)
    try:
        demo.wait_for(
            lambda: any(f"Aniworld demo: http://127.0.0.1:{port} " in line for line in demo.lines),
            START_TIMEOUT,
            "the demo to print its address",
        )
        demo.wait_for(
            lambda: httpx.get(demo.url("/health"), timeout=10).json()["checks"]["workers"]["data"].get("count"),
            START_TIMEOUT,
            "web and a worker to answer",
        )
        yield demo
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C, as in a terminal
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _client(demo: Demo) -> httpx.Client:
    response = httpx.post(demo.url("/api/auth/login"), json={"password": DEMO_PASSWORD}, timeout=30)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    return httpx.Client(base_url=demo.url(""), headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_make_demo_downloads_an_episode_and_starts_again_on_its_data(tmp_path):
    data_dir = tmp_path / "demo-data"
    with make_demo(data_dir) as demo:
        api = _client(demo)
        series = api.get("/api/anime", params={"search": "Moonlit"}).json()["results"]
        detail = api.get(f"/api/anime/{series[0]['id']}").json()
        episodes = {(s["number"], e["number"]): e for s in detail["seasons"] for e in s["episodes"]}
        assert episodes[(1, 1)]["state"] == "present"  # the seeded file
        response = api.post("/api/queue/add", json={"episode_ids": [episodes[(1, 2)]["id"]], "priority": "high"})
        assert response.status_code == 201, response.text
        item_id = response.json()["queued"][0]["id"]
        item = demo.wait_for(
            lambda: (found := api.get(f"/api/queue/{item_id}").json())["state"] in ("completed", "failed") and found,
            DOWNLOAD_TIMEOUT,
            "the download to finish",
        )
        assert item["state"] == "completed", item
    assert "stack | stopped" in demo.output()  # Ctrl-C stopped every process cleanly
    downloaded = [path for path in (data_dir / "library").rglob("*S01E02*") if path.is_file()]
    assert downloaded and downloaded[0].stat().st_size > 1000

    with make_demo(data_dir) as again:  # `make demo` on existing demo data
        detail = _client(again).get(f"/api/anime/{series[0]['id']}").json()
        states = {(s["number"], e["number"]): e["state"] for s in detail["seasons"] for e in s["episodes"]}
        assert states[(1, 1)] == states[(1, 2)] == "present"
    assert "stack | stopped" in again.output()
