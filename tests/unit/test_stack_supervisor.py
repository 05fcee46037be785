"""The supervisor behind `make run`: a child that exits is restarted with back-off; the others keep running."""

from __future__ import annotations

import io
import signal
import sys
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from aniworld_site.env import node_name
from aniworld_site.stack import Child, Stack, describe_exit, restart_delay

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def test_restart_delay_doubles_up_to_thirty_seconds():
    assert [restart_delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_exit_codes_name_the_signal():
    assert describe_exit(-9) == "code -9 (SIGKILL)"
    assert describe_exit(3) == "code 3"


def _supervise_until(stack: Stack, predicate, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        stack.supervise()
        if predicate():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s; log:\n{stack.output.getvalue()}")


def test_a_killed_child_is_restarted_after_its_back_off_and_the_others_keep_running(tmp_path):
    stack = Stack(data_dir=tmp_path, web_ports=[], workers=0, beat=False, output=io.StringIO())
    victim = stack.start_child(Child("web", SLEEPER))
    bystander = stack.start_child(Child("worker", SLEEPER))
    bystander_pid, first_pid = bystander.process.pid, victim.process.pid
    try:
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        took = _supervise_until(stack, lambda: victim.process.pid != first_pid, 5)
        print(f"restarted after {took:.2f}s (back-off 1 s)")
        assert 0.9 <= took < 3
        assert victim.process.poll() is None
        assert bystander.process.pid == bystander_pid and bystander.process.poll() is None
        log = stack.output.getvalue()
        assert "web exited with code -9 (SIGKILL)" in log
        assert "restarting it in 1s (restart 1 in a row)" in log

        second_pid = victim.process.pid  # a second quick exit waits twice as long
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        took = _supervise_until(stack, lambda: victim.process.pid != second_pid, 6)
        print(f"second restart after {took:.2f}s (back-off 2 s)")
        assert 1.9 <= took < 4
        assert "restarting it in 2s (restart 2 in a row)" in stack.output.getvalue()
    finally:
        stack.stop()
    assert all(child.process.poll() is not None for child in stack.children)


def test_node_name_comes_from_the_environment_and_is_checked(monkeypatch):
    monkeypatch.setenv("ANIWORLD_NODE_NAME", "nas-2")
    assert node_name() == "nas-2"
    monkeypatch.setenv("ANIWORLD_NODE_NAME", "nas 2:a")
    with pytest.raises(ImproperlyConfigured, match="ANIWORLD_NODE_NAME"):
        node_name()
    monkeypatch.delenv("ANIWORLD_NODE_NAME")
    assert node_name()


def test_a_dead_embedded_redis_is_started_again_with_the_same_command(tmp_path):
    stack = Stack(data_dir=tmp_path, web_ports=[], workers=0, beat=False, output=io.StringIO())
    stack.redis = Child("redis", SLEEPER)  # stands in for redis-server on its fixed port
    stack._spawn_redis()
    first = stack.redis_process
    try:
        first.send_signal(signal.SIGKILL)
        first.wait()
        took = _supervise_until(stack, lambda: stack.redis_process is not first, 5)
        print(f"embedded Redis started again after {took:.2f}s")
        assert stack.redis_process.poll() is None and stack.redis.argv == SLEEPER
        assert "redis exited with code -9 (SIGKILL)" in stack.output.getvalue()
    finally:
        stack.stop()
    assert stack.redis_process.poll() is not None
