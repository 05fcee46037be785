"""Start the real stack for integration tests, the way `make run` does.

``live_stack_factory(web_processes=2, workers=1)`` returns a :class:`LiveStack`:
daphne process(es), Celery worker process(es) and beat from
:mod:`aniworld_site.stack`, on free ports, with a temporary data directory, a
freshly migrated database of its own (a PostgreSQL database cloned from a
migrated template when the suite runs on PostgreSQL, else an SQLite file) and
the suite's Redis under a key prefix of its own. Every process's output goes to
``<data>/stack.log``, printed when a test fails.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from aniworld_site.stack import PROJECT_DIR, Stack, free_port

OWNER_PASSWORD = "Correct-Horse-42!"


def _admin_postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


def _pg_execute(sql: str) -> None:
    import psycopg

    admin = _admin_postgres_url()
    assert admin
    with psycopg.connect(admin.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(sql)


class _MigratedTemplate:
    """Migrate once per test session; each stack starts from a copy."""

    def __init__(self, root: Path):
        self.root = root
        self.sqlite_path: Path | None = None
        self.pg_name: str | None = None

    def prepare(self) -> None:
        if self.sqlite_path or self.pg_name:
            return
        env = base_env(self.root / "template-data")
        if _admin_postgres_url():
            self.pg_name = f"aniworld_tpl_{secrets.token_hex(4)}"
            _pg_execute(f'CREATE DATABASE "{self.pg_name}"')
            env["DATABASE_URL"] = _with_database(_admin_postgres_url(), self.pg_name)
        else:
            self.sqlite_path = self.root / "template.sqlite3"
            env["DATABASE_URL"] = f"sqlite:///{self.sqlite_path}"
        run_manage(env, "migrate", "--noinput", "-v0")

    def new_database_url(self, data_dir: Path) -> tuple[str, Callable[[], None]]:
        self.prepare()
        if self.pg_name:
            name = f"aniworld_live_{secrets.token_hex(4)}"
            _pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.pg_name}"')
            return _with_database(_admin_postgres_url(), name), lambda: _pg_execute(
                f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
            )
        target = data_dir / "aniworld.sqlite3"
        shutil.copy(self.sqlite_path, target)
        return f"sqlite:///{target}", lambda: None

    def drop(self) -> None:
        if self.pg_name:
            _pg_execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')


def base_env(data_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "DJANGO_SETTINGS_MODULE")) and key != "ANIWORLD_TEST_SERVICES"
    }
    env.update(
        {
            "ANIWORLD_DATA_DIR": str(data_dir),
            "DJANGO_SETTINGS_MODULE": "aniworld_site.settings",
            "ANIWORLD_KEY_PREFIX": f"aniworld-live-{secrets.token_hex(4)}",
            "LOG_LEVEL": "INFO",
            "HEALTH_DETAILS": "everyone",  # the helpers wait on the checks before the owner exists
            "PYTHONUNBUFFERED": "1",
        }
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    return env


def run_manage(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@dataclass
class LiveStack:
    stack: Stack
    env: dict[str, str]
    log: io.TextIOBase
    log_path: Path
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.stack.data_dir

    def url(self, path: str = "/", web: int = 0) -> str:
        return f"http://{self.stack.host}:{self.stack.web_ports[web]}{path}"

    def ws_url(self, path: str = "/ws/connect", web: int = 0) -> str:
        return f"ws://{self.stack.host}:{self.stack.web_ports[web]}{path}"

    def client(self, web: int = 0, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url("", web), timeout=30, **kwargs)

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return run_manage(self.env, *args, check=check)

    def health(self, web: int = 0) -> tuple[int, dict]:
        response = httpx.get(self.url("/health", web), timeout=15)
        return response.status_code, response.json()

    def wait_until(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except (httpx.HTTPError, ValueError):
                pass
            crashed = self.stack.first_exit()
            if crashed:
                raise AssertionError(f"{crashed.name} exited with {crashed.process.returncode}\n{self.log_tail()}")
            time.sleep(0.3)
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{self.log_tail()}")

    def wait_ready(self, min_workers: int = 1, timeout: float = 90) -> None:
        for web in range(len(self.stack.web_ports)):
            self.wait_until(lambda web=web: self.health(web)[1]["checks"]["database"]["ok"], timeout, "web to answer")
        self.wait_until(
            lambda: self.health()[1]["checks"]["workers"]["data"].get("count", 0) >= min_workers,
            timeout,
            f"{min_workers} Celery worker(s) to answer a ping",
        )

    def setup_owner(self, password: str = OWNER_PASSWORD) -> None:
        response = httpx.post(self.url("/api/auth/setup"), json={"password": password}, timeout=30)
        assert response.status_code == 201, response.text

    def login(self, password: str = OWNER_PASSWORD, web: int = 0) -> str:
        response = httpx.post(self.url("/api/auth/login", web), json={"password": password}, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def log_tail(self, lines: int = 120) -> str:
        self.log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        self.stack.stop()
        self.log.flush()
        for cleanup in reversed(self.cleanups):
            cleanup()


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory) -> Iterator[_MigratedTemplate]:
    template = _MigratedTemplate(tmp_path_factory.mktemp("live-template"))
    yield template
    template.drop()


@pytest.fixture
def live_stack_factory(tmp_path_factory, _migrated_template, request) -> Iterator[Callable[..., LiveStack]]:
    started: list[LiveStack] = []

    def start(
        web_processes: int = 1,
        workers: int = 1,
        beat: bool = True,
        worker_concurrency: int = 2,
        extra_env: dict[str, str] | None = None,
        wait: bool = True,
    ) -> LiveStack:
        data_dir = tmp_path_factory.mktemp("live-data")
        env = base_env(data_dir)
        database_url, drop_database = _migrated_template.new_database_url(data_dir)
        env["DATABASE_URL"] = database_url
        env.update(extra_env or {})
        log_path = data_dir / "stack.log"
        log = log_path.open("a", buffering=1)
        stack = Stack(
            data_dir=data_dir,
            web_ports=[free_port() for _ in range(web_processes)],
            workers=workers,
            worker_concurrency=worker_concurrency,
            beat=beat,
            env=env,
            output=log,
        )
        live = LiveStack(stack=stack, env={**env, "REDIS_URL": env.get("REDIS_URL", "")}, log=log, log_path=log_path)
        live.cleanups.append(drop_database)
        started.append(live)
        stack.start()
        if stack.redis_url:
            live.env["REDIS_URL"] = stack.redis_url
        if wait:
            live.wait_ready(min_workers=workers if workers else 0)
        return live

    yield start
    failed = getattr(request.node, "rep_call", None)
    for live in started:
        if failed is not None and failed.failed:
            print(f"\n--- stack log ({live.log_path}) ---\n{live.log_tail(200)}")
        live.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
