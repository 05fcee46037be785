"""Benchmark: realtime fan-out latency to 500 WebSocket clients, against raw Redis pub/sub.

Run standalone: ``.venv/bin/python bench/bench_ws_fanout.py [--clients 500 --web-processes 1] [--events 40] [--runs 3]``
(without --clients and --web-processes: 500 clients on one web process, then 2,000 on two).

It starts a real stack without workers (``aniworld_site.stack.Stack``: an embedded Redis
and ``--web-processes`` daphne processes, SQLite in a temporary data directory, migrated
first), sets up the owner, connects ``--clients`` WebSocket clients spread over the web
processes (each authenticated with a token in its first frame and joined to the
``downloads`` room), then publishes ``--events`` download_progress events through
``apps.realtime.publish.publish`` — exactly what a Celery worker calls — one every
``--interval`` seconds, and records when each client receives each event.

Baseline (same payload, same spacing, same process layout for the receivers): raw Redis
PUBLISH to ``--clients`` redis-py asyncio subscribers. The baseline has no
authentication, rooms, per-process routing or WebSocket framing, so it is the floor.

Printed: latency from publish to receipt over all deliveries (p50/p95/max), the time
until all clients had an event (p50/p95/max over events), and the ratio realtime /
baseline. ``--layer pubsub`` runs the web processes with channels_redis's
RedisPubSubChannelLayer instead of the configured RedisChannelLayer, for comparison.
Everything is bounded by ``--timeout`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import httpx  # noqa: E402
import redis  # noqa: E402
import redis.asyncio as aioredis  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from aniworld_site.stack import Stack, free_port  # noqa: E402
from bench.results import record, summarize  # noqa: E402

PASSWORD = f"Bench-{secrets.token_hex(8)}-Aa1!"  # a throwaway owner of a throwaway stack
CONNECT_CONCURRENCY = 50

PUBSUB_SETTINGS = """
from aniworld_site.settings import *  # noqa: F403
from aniworld_site.settings import KEY_PREFIX, REDIS_URL

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{KEY_PREFIX}:asgi"},
    }
}
"""


@dataclass
class Receipts:
    """When each receiver got each event (perf_counter seconds)."""

    clients: int
    events: int
    sent_at: dict[int, float] = field(default_factory=dict)
    got: dict[int, list[float]] = field(default_factory=dict)

    def record(self, seq: int) -> None:
        self.got.setdefault(seq, []).append(time.perf_counter())

    def complete(self) -> bool:
        return len(self.got) == self.events and all(len(v) >= self.clients for v in self.got.values())

    def summary(self) -> dict[str, float]:
        per_delivery = sorted(
            (at - self.sent_at[seq]) * 1000 for seq, times in self.got.items() if seq in self.sent_at for at in times
        )
        all_received = sorted(
            (max(times) - self.sent_at[seq]) * 1000
            for seq, times in self.got.items()
            if seq in self.sent_at and len(times) >= self.clients
        )
        expected = self.clients * self.events
        return {
            "delivered": len(per_delivery),
            "expected": expected,
            "p50": percentile(per_delivery, 50),
            "p95": percentile(per_delivery, 95),
            "max": per_delivery[-1] if per_delivery else float("nan"),
            "all_p50": percentile(all_received, 50),
            "all_p95": percentile(all_received, 95),
            "all_max": all_received[-1] if all_received else float("nan"),
        }


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(pct / 100 * len(values)) - 1))
    return values[index]


# --- the stack ---------------------------------------------------------------------------


def start_stack(workdir: Path, web_processes: int, layer: str) -> tuple[Stack, dict[str, str]]:
    data_dir = workdir / "data"
    data_dir.mkdir()
    os.environ.pop("REDIS_URL", None)  # always our own embedded Redis
    os.environ.pop("DATABASE_URL", None)
    env = {
        "ANIWORLD_DATA_DIR": str(data_dir),
        "ANIWORLD_KEY_PREFIX": f"bench-{secrets.token_hex(4)}",
        "DJANGO_SETTINGS_MODULE": "aniworld_site.settings",
        "LOG_LEVEL": "WARNING",
        "ANIWORLD_WS_MAX_CONNECTIONS_PER_ADDRESS": "2000",  # every benchmark client comes from 127.0.0.1
    }
    if layer == "pubsub":
        settings_dir = workdir / "settings"
        settings_dir.mkdir()
        (settings_dir / "bench_pubsub_settings.py").write_text(PUBSUB_SETTINGS)
        env["DJANGO_SETTINGS_MODULE"] = "bench_pubsub_settings"
        env["PYTHONPATH"] = os.pathsep.join([str(settings_dir), str(PROJECT_ROOT)])
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if migrate.returncode:
        raise SystemExit(f"migrate failed:\n{migrate.stdout}\n{migrate.stderr}")
    log = (workdir / "stack.log").open("a", buffering=1)
    stack = Stack(
        data_dir=data_dir,
        web_ports=[free_port() for _ in range(web_processes)],
        workers=0,
        beat=False,
        env=env,
        output=log,
    )
    stack.start()
    env["REDIS_URL"] = stack.redis_url or ""
    for port in stack.web_ports:
        wait_http(f"http://{stack.host}:{port}/api/auth/status", stack, workdir)
    return stack, env


def wait_http(url: str, stack: Stack, workdir: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        crashed = stack.first_exit()
        if crashed:
            raise SystemExit(f"{crashed.name} exited; see {workdir / 'stack.log'}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer in {timeout:.0f}s")


def owner_token(base_url: str) -> str:
    response = httpx.post(f"{base_url}/api/auth/setup", json={"password": PASSWORD}, timeout=30)
    assert response.status_code == 201, response.text
    response = httpx.post(f"{base_url}/api/auth/login", json={"password": PASSWORD}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def django_publisher(env: dict[str, str]):
    """``apps.realtime.publish.publish`` in this process, configured like the stack's processes."""
    os.environ.update({key: value for key, value in env.items() if key != "PYTHONPATH"})
    if "PYTHONPATH" in env:
        sys.path[:0] = env["PYTHONPATH"].split(os.pathsep)
    import django

    django.setup()
    from apps.realtime.publish import publish

    return publish


# --- the two fan-outs ---------------------------------------------------------------------


async def publish_events(send, receipts: Receipts, interval: float) -> None:
    """Publish from a plain thread (as a worker does), one event every ``interval`` seconds."""

    def run() -> None:
        for seq in range(receipts.events):
            receipts.sent_at[seq] = time.perf_counter()
            send(seq)
            time.sleep(interval)

    await asyncio.to_thread(run)


async def wait_all(receipts: Receipts, grace: float) -> None:
    deadline = time.monotonic() + grace
    while not receipts.complete() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def websocket_fanout(
    ws_urls: list[str], token: str, publish, clients: int, events: int, interval: float
) -> Receipts:
    receipts = Receipts(clients, events)
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    sockets = []

    async def open_one(index: int):
        async with gate:
            ws = await connect(
                ws_urls[index % len(ws_urls)], compression=None, proxy=None, open_timeout=60, max_queue=None
            )
            await ws.send(json.dumps({"action": "auth", "token": token}))
            assert json.loads(await ws.recv())["type"] == "connected"
            await ws.send(json.dumps({"action": "join", "room": "downloads"}))
            await ws.send(json.dumps({"action": "ping"}))
            assert json.loads(await ws.recv())["type"] == "pong"  # the join is in effect
            return ws

    async def read(ws) -> None:
        async for text in ws:
            frame = json.loads(text)
            if frame["type"] == "download_progress":
                receipts.record(frame["data"]["seq"])

    started = time.perf_counter()
    sockets = await asyncio.gather(*(open_one(i) for i in range(clients)))
    print(f"  {clients} WebSocket clients authenticated and joined in {time.perf_counter() - started:.1f} s")
    readers = [asyncio.create_task(read(ws)) for ws in sockets]
    try:
        await publish_events(
            lambda seq: publish("download_progress", {"item_id": seq, "seq": seq, "percent": 50.0}),
            receipts,
            interval,
        )
        await wait_all(receipts, grace=15)
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return receipts


async def redis_fanout(redis_url: str, clients: int, events: int, interval: float) -> Receipts:
    receipts = Receipts(clients, events)
    channel = f"bench-baseline-{secrets.token_hex(4)}"
    subscriber_client = aioredis.Redis.from_url(redis_url, max_connections=clients + 10)
    pubsubs = []
    for _ in range(clients):
        pubsub = subscriber_client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(channel)
        pubsubs.append(pubsub)

    async def read(pubsub) -> None:
        while True:
            message = await pubsub.get_message(timeout=1.0)
            if message is not None:
                frame = json.loads(message["data"])
                receipts.record(frame["data"]["seq"])

    readers = [asyncio.create_task(read(p)) for p in pubsubs]
    publisher = redis.Redis.from_url(redis_url)

    def send(seq: int) -> None:
        frame = {"type": "download_progress", "data": {"item_id": seq, "seq": seq, "percent": 50.0}}
        frame["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        publisher.publish(channel, json.dumps(frame))

    try:
        await publish_events(send, receipts, interval)
        await wait_all(receipts, grace=15)
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        for pubsub in pubsubs:
            await pubsub.aclose()
        await subscriber_client.aclose()
        publisher.close()
    return receipts


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(name: str, summary: dict[str, float]) -> None:
    print(
        f"  {name:<26} delivered {summary['delivered']}/{summary['expected']}   "
        f"per delivery p50 {summary['p50']:7.1f} ms  p95 {summary['p95']:7.1f} ms  max {summary['max']:7.1f} ms   "
        f"all clients p50 {summary['all_p50']:7.1f} ms  p95 {summary['all_p95']:7.1f} ms  max {summary['all_max']:7.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, help="default: 500 clients on 1 process, then 2,000 on 2")
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between published events")
    parser.add_argument("--web-processes", type=int)
    parser.add_argument("--layer", choices=["core", "pubsub"], default="core")
    parser.add_argument("--runs", type=int, default=3, help="realtime + baseline runs on the same stack")
    parser.add_argument("--timeout", type=float, default=600, help="give up after this many seconds")
    args = parser.parse_args(argv)
    if args.clients is None and args.web_processes is None:
        # Each scenario in its own process: the publisher's Django settings name one stack's Redis.
        options = ["--events", str(args.events), "--interval", str(args.interval), "--layer", args.layer]
        options += ["--runs", str(args.runs), "--timeout", str(args.timeout)]
        codes = [
            subprocess.call([sys.executable, __file__, "--clients", clients, "--web-processes", processes, *options])
            for clients, processes in (("500", "1"), ("2000", "2"))
        ]
        return max(codes)
    args.clients = args.clients or 500
    args.web_processes = args.web_processes or 1

    stopper = threading.Timer(args.timeout, lambda: os._exit(3))  # the stack children die with us
    stopper.daemon = True
    stopper.start()
    workdir = Path(tempfile.mkdtemp(prefix="aniworld-bench-ws-"))
    stack = None
    try:
        print(f"Starting {args.web_processes} web process(es) ({args.layer} channel layer) in {workdir} …")
        stack, env = start_stack(workdir, args.web_processes, args.layer)
        base = f"http://{stack.host}:{stack.web_ports[0]}"
        token = owner_token(base)
        publish = django_publisher(env)
        ws_urls = [f"ws://{stack.host}:{port}/ws/connect" for port in stack.web_ports]
        print(f"Fan-out of {args.events} events, one every {args.interval * 1000:.0f} ms, to {args.clients} clients:")
        pids = {child.name: child.process.pid for child in stack.children} | {"bench (clients)": os.getpid()}
        runs: list[tuple[dict[str, float], dict[str, float]]] = []
        complete = True
        for run in range(1, args.runs + 1):
            cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            wall = time.perf_counter()
            realtime = asyncio.run(
                websocket_fanout(ws_urls, token, publish, args.clients, args.events, args.interval)
            ).summary()
            wall = time.perf_counter() - wall
            cpu = ", ".join(f"{name} {cpu_seconds(pid) - cpu_before[name]:.1f} s" for name, pid in pids.items())
            print(f"  run {run}: CPU during the realtime run ({wall:.1f} s wall, {os.cpu_count()} cores): {cpu}")
            baseline = asyncio.run(redis_fanout(env["REDIS_URL"], args.clients, args.events, args.interval)).summary()
            report("realtime (/ws/connect)", realtime)
            report("baseline (Redis pub/sub)", baseline)
            print(
                "  ratio realtime / baseline (lower is better, 1.0 = as fast as raw Redis pub/sub): "
                f"p50 {realtime['p50'] / baseline['p50']:.1f}x, p95 {realtime['p95'] / baseline['p95']:.1f}x, "
                f"all-clients p95 {realtime['all_p95'] / baseline['all_p95']:.1f}x"
            )
            runs.append((realtime, baseline))
            complete = complete and realtime["delivered"] == realtime["expected"]
        if not complete:
            print("WARNING: not every client received every event (see the stack log).")
        label = f"{args.clients} clients, {args.web_processes} web process(es)"
        record(
            f"websocket fan-out ({label})",
            [
                summarize(
                    f"{label}: {stat}",
                    [realtime[key] for realtime, _ in runs],
                    [baseline[key] for _, baseline in runs],
                    baseline_name="Redis pub/sub",
                    digits=1,
                )
                for stat, key in (
                    ("per delivery p50", "p50"),
                    ("per delivery p95", "p95"),
                    ("all clients had it, p95", "all_p95"),
                )
            ],
            f"{args.events} download_progress events, one every {args.interval * 1000:.0f} ms, published like a "
            f"worker does, to {args.clients} WebSocket clients in the downloads room ({args.layer} channel layer); "
            "baseline: the same payloads through raw Redis PUBLISH to as many redis-py subscribers. "
            + ("" if complete else "Not every client received every event."),
        )
        return 0 if complete else 1
    finally:
        if stack is not None:
            stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
