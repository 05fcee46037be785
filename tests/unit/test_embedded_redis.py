"""The embedded Redis (`make run`, and the tests' own): a generated password and no CONFIG command."""

from __future__ import annotations

import io
import stat
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

from aniworld_site.stack import Stack
from tests.services import _start_embedded_redis


def _assert_locked(url: str) -> None:
    parts = urlsplit(url)
    assert parts.password, f"no password in {url}"
    anonymous = redis.Redis(host=parts.hostname, port=parts.port, socket_connect_timeout=2)
    with pytest.raises(redis.AuthenticationError):
        anonymous.set("aniworld-anonymous", "1")
    owner = redis.Redis.from_url(url, socket_connect_timeout=2)
    assert owner.ping()
    with pytest.raises(redis.ResponseError, match="unknown command"):
        owner.config_get("dir")
    with pytest.raises(redis.ResponseError, match="unknown command"):
        owner.execute_command("CONFIG", "SET", "dir", "/tmp")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_stack_redis_has_a_generated_password_and_no_config(tmp_path):
    stack = Stack(data_dir=tmp_path, output=io.StringIO())
    try:
        url = stack.start_embedded_redis()
        _assert_locked(url)
        password_file = tmp_path / "redis_password"
        assert password_file.read_text().strip() == urlsplit(url).password
        assert _mode(password_file) == 0o600
        assert _mode(tmp_path / "run" / "redis.url") == 0o600
        assert urlsplit(url).password not in stack.output.getvalue()  # not printed either
    finally:
        stack.stop()
    again = Stack(data_dir=tmp_path, output=io.StringIO())
    try:
        assert urlsplit(again.start_embedded_redis()).password == password_file.read_text().strip()  # kept
    finally:
        again.stop()


def test_test_run_redis_has_a_password_and_no_config():
    _assert_locked(_start_embedded_redis())
