"""Fault tests: the stack started exactly as `make run` starts it, then broken on purpose.

``supervised_stack()`` runs ``python -m aniworld_site.stack`` (the supervisor itself,
with its embedded Redis) on a free port with a temporary data directory and a
freshly migrated database, the fake catalog site configured. The test can kill its
children, SIGTERM the supervisor and start it again on the same data.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from aniworld_site.stack import PROJECT_DIR, free_port
from tests.fakesite.plugin import FAST_CATALOG_ENV
from tests.live import OWNER_PASSWORD, base_env, run_manage

# Progress reaches the database every second (not every 3 s), so a test sees a download move quickly.
PROGRESS_ENV = {"ANIWORLD_QUEUE_PROGRESS_WRITE_SECONDS": "1"}


@dataclass
class SupervisedStack:
    """One `make run` supervisor process (and, after :meth:`restart`, its successor on the same data)."""

    env: dict[str, str]
    data_dir: Path
    port: int
    log_path: Path
    drop_database: Callable[[], None] = lambda: None
    process: subprocess.Popen | None = None
    starts: list[float] = field(default_factory=list)

    def start(self) -> None:
        log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aniworld_site.stack", "--port", str(self.port), "--concurrency", "2"],
            cwd=PROJECT_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self.starts.append(time.monotonic())

    def terminate(self, timeout: float = 40) -> float:
        """SIGTERM to the supervisor (what Ctrl-C or `docker stop` does); seconds until it exited."""
        assert self.process is not None
        asked = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=timeout)
        return time.monotonic() - asked

    def restart(self) -> None:
        self.start()

    def stop(self) -> None:
        """Clean stop if it still runs (its children follow it), else nothing."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.terminate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    # --- what the supervisor says ---------------------------------------------------
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 150) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def pids(self, name: str) -> list[int]:
        """Every pid the supervisor reported for child ``name``, oldest first."""
        return [int(pid) for pid in re.findall(rf"stack \| {re.escape(name)} started \(pid (\d+)\)", self.log())]

    # --- HTTP --------------------------------------------------------------------------
    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def client(self, web: int = 0, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url(""), timeout=30, **kwargs)

    def login(self, password: str = OWNER_PASSWORD, web: int = 0) -> str:
        response = httpx.post(self.url("/api/auth/login"), json={"password": password}, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def setup_owner(self) -> None:
        response = httpx.post(self.url("/api/auth/setup"), json={"password": OWNER_PASSWORD}, timeout=30)
        assert response.status_code == 201, response.text

    def healthy(self) -> bool:
        try:
            return httpx.get(self.url("/health"), timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_until(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = predicate()
            except (httpx.HTTPError, AssertionError, KeyError):
                value = None
            if value:
                return value
            assert self.process is None or self.process.poll() is None, f"the supervisor exited\n{self.log_tail()}"
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{self.log_tail()}")

    def items(self) -> list[dict[str, Any]]:
        """The queue rows straight from the database (works while the stack is down)."""
        code = (
            "import json; from apps.queue.models import DownloadItem; "
            "print(json.dumps(list(DownloadItem.objects.order_by('id').values("
            "'id', 'state', 'worker_id', 'task_id', 'lease_expires_at', 'attempts', 'last_error')), default=str))"
        )
        env = {key: value for key, value in self.env.items() if key != "REDIS_URL"}
        result = run_manage(env, "shell", "-c", code)
        return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def supervised_stack(
    tmp_path_factory, _migrated_template, fake_site, request
) -> Iterator[Callable[..., SupervisedStack]]:
    started: list[SupervisedStack] = []

    def start(extra_env: dict[str, str] | None = None) -> SupervisedStack:
        data_dir = tmp_path_factory.mktemp("faults-data")
        env = base_env(data_dir)
        env.pop("REDIS_URL", None)  # like `make run`: the supervisor starts its own embedded Redis
        database_url, drop_database = _migrated_template.new_database_url(data_dir)
        env["DATABASE_URL"] = database_url
        env.update({**fake_site.env(), **FAST_CATALOG_ENV, **(extra_env or {})})
        stack = SupervisedStack(
            env=env,
            data_dir=data_dir,
            port=free_port(),
            log_path=data_dir / "supervisor.log",
            drop_database=drop_database,
        )
        started.append(stack)
        stack.start()
        return stack

    yield start
    failed = getattr(request.node, "rep_call", None)
    for stack in started:
        if failed is not None and failed.failed:
            print(f"\n--- supervisor log ({stack.log_path}) ---\n{stack.log_tail(200)}")
        stack.stop()
        stack.drop_database()
