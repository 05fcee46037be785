"""Deployment settings: strict parsing and safe defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from aniworld_site.env import env_bool, env_int, env_networks, load_or_create_secret_key, parse_bool

PROJECT_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "yes", "on", " True "])
def test_true_words_are_true(raw):
    assert parse_bool("X", raw) is True


@pytest.mark.parametrize("raw", ["0", "false", "False", "no", "off", ""])
def test_false_words_are_false(raw):
    assert parse_bool("X", raw) is False


@pytest.mark.parametrize("raw", ["flase", "maybe", "2", "yess"])
def test_unclear_booleans_stop_startup(raw):
    with pytest.raises(ImproperlyConfigured, match="not a yes/no value"):
        parse_bool("DEBUG", raw)


def test_env_int_bounds(monkeypatch):
    monkeypatch.setenv("SESSION_TIMEOUT_HOURS", "0")
    with pytest.raises(ImproperlyConfigured, match="below the minimum"):
        env_int("SESSION_TIMEOUT_HOURS", 24, minimum=1)
    monkeypatch.setenv("SESSION_TIMEOUT_HOURS", "twelve")
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("SESSION_TIMEOUT_HOURS", 24)
    monkeypatch.delenv("SESSION_TIMEOUT_HOURS")
    assert env_int("SESSION_TIMEOUT_HOURS", 24) == 24


def test_env_bool_default_when_unset(monkeypatch):
    monkeypatch.delenv("SOME_FLAG", raising=False)
    assert env_bool("SOME_FLAG", True) is True


def test_trusted_proxies_parse_addresses_and_networks(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16")
    assert [str(n) for n in env_networks("TRUSTED_PROXIES")] == ["10.0.0.1/32", "192.168.0.0/16"]
    monkeypatch.setenv("TRUSTED_PROXIES", "not-an-ip")
    with pytest.raises(ImproperlyConfigured, match="not an IP address"):
        env_networks("TRUSTED_PROXIES")


def test_secret_key_is_generated_once_with_private_permissions(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = load_or_create_secret_key(tmp_path)
    assert len(first) >= 50
    assert load_or_create_secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def _settings_in_fresh_process(tmp_path: Path, **env: str) -> dict:
    code = (
        "import json; from django.conf import settings as s; import django; django.setup();"
        "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']),"
        "'debug': s.DEBUG, 'hosts': s.ALLOWED_HOSTS, 'redis': s.REDIS_URL, 'hashers': s.PASSWORD_HASHERS,"
        "'data': str(s.DATA_DIR), 'timeout': s.SESSION_TIMEOUT_HOURS, 'logs': sorted(p.name for p in s.LOG_DIR.iterdir()) if s.LOG_DIR.exists() else []}))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY"}}
    clean.update({"ANIWORLD_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "aniworld_site.settings", **env})
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, env=clean, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


def test_defaults_need_nothing_configured(tmp_path):
    values = _settings_in_fresh_process(tmp_path)
    assert values["db"] == "django.db.backends.sqlite3"
    assert values["name"] == str(tmp_path / "aniworld.sqlite3")
    assert values["debug"] is False
    assert values["hosts"] == ["localhost", "127.0.0.1", "[::1]"]
    assert values["redis"] is None
    assert values["hashers"][0].endswith("BCryptSHA256PasswordHasher")
    assert values["timeout"] == 24
    assert (tmp_path / "secret_key").exists()


def test_debug_false_string_is_false(tmp_path):
    assert _settings_in_fresh_process(tmp_path, DEBUG="false")["debug"] is False


def test_embedded_redis_marker_is_found(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "redis.url").write_text("redis://127.0.0.1:40000/0")
    assert _settings_in_fresh_process(tmp_path)["redis"] == "redis://127.0.0.1:40000/0"


def test_sqlite_runs_in_wal_mode(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode") if connection.vendor == "sqlite" else cursor.execute("SELECT 'wal'")
        mode = cursor.fetchone()[0]
    assert mode.lower() in {"wal", "memory"}  # in-memory test databases report "memory"


def test_health_free_space_threshold_is_parsed_strictly(monkeypatch):
    from aniworld_site.env import env_float

    monkeypatch.setenv("HEALTH_MIN_FREE_GB", "0.5")
    assert env_float("HEALTH_MIN_FREE_GB", 1.0, minimum=0) == 0.5
    monkeypatch.setenv("HEALTH_MIN_FREE_GB", "half")
    with pytest.raises(ImproperlyConfigured, match="not a number"):
        env_float("HEALTH_MIN_FREE_GB", 1.0)


def test_the_suite_runs_on_test_settings_and_never_on_the_owners_data():
    from django.conf import settings

    assert settings.SETTINGS_MODULE == "tests.settings"
    assert (PROJECT_DIR / "data").resolve() != settings.DATA_DIR


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_data_dir_files_are_private_to_the_service_user(tmp_path):
    data = tmp_path / "data"
    (data / "logs").mkdir(parents=True)
    (data / "secret_key").write_text("k" * 60)
    (data / "logs" / "app.log").write_text("old lines\n")
    (data / "notes.sh").write_text("echo not ours\n")
    for path in (data, data / "logs", data / "secret_key", data / "logs" / "app.log"):
        path.chmod(0o755 if path.is_dir() else 0o644)  # as an older version left them
    (data / "notes.sh").chmod(0o755)
    values = _settings_in_fresh_process(data, ANIWORLD_LIBRARY_DIR=str(tmp_path / "library"))
    assert {"app.log", "download.log", "error.log"} <= set(values["logs"])
    assert _mode(data) == 0o700
    for directory in ("logs", "run"):
        assert _mode(data / directory) == 0o700, directory
    for file in ("secret_key", "aniworld.sqlite3", "logs/app.log", "logs/download.log", "logs/error.log"):
        assert _mode(data / file) == 0o600, file
    assert _mode(data / "notes.sh") == 0o755  # a file that is not ours is left alone


def test_a_data_dir_holding_the_default_library_stays_passable_but_unlistable(tmp_path):
    _settings_in_fresh_process(tmp_path)  # the library defaults to <data>/library
    assert _mode(tmp_path) == 0o711  # a media server can reach the library, nobody can list the data
    assert _mode(tmp_path / "secret_key") == 0o600


def test_rotated_logs_stay_private(tmp_path):
    import logging

    from aniworld_site.logging import PrivateRotatingFileHandler

    handler = PrivateRotatingFileHandler(tmp_path / "app.log", maxBytes=50, backupCount=2)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "a line of text " * 5, None, None)
    for _ in range(3):
        handler.emit(record)
    handler.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.log", "app.log.1", "app.log.2"]
    assert {_mode(path) for path in tmp_path.iterdir()} == {0o600}


def test_embedded_redis_files_are_private(tmp_path):
    from aniworld_site.stack import Stack

    stack = Stack(data_dir=tmp_path, output=open(os.devnull, "w"))  # noqa: SIM115
    try:
        stack.start_embedded_redis()
        assert _mode(tmp_path / "redis") == 0o700
        assert _mode(tmp_path / "run") == 0o700
        assert _mode(tmp_path / "run" / "redis.url") == 0o600
    finally:
        stack.stop()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ANIWORLD_QUEUE_LEASE_SECONDS", "soon"),
        ("ANIWORLD_QUEUE_DISPATCH_TIMEOUT_SECONDS", "0"),
        ("ANIWORLD_QUEUE_UNKNOWN_SIZE_BYTES", "300MB"),
        ("ANIWORLD_CATALOG_REQUESTS_PER_SECOND", "-3"),
        ("ANIWORLD_CATALOG_RETRY_DELAY", "fast"),
        ("ANIWORLD_STO_URL", "s.to"),
    ],
)
def test_a_bad_value_stops_startup_instead_of_meaning_the_default(tmp_path, name, value):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("ANIWORLD_QUEUE_", "ANIWORLD_CATALOG_"))}
    environment.update({"ANIWORLD_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "aniworld_site.settings"})
    environment[name] = value
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode != 0
    assert "ImproperlyConfigured" in out.stderr and name in out.stderr


def test_queue_timings_come_from_settings(settings):
    from apps.queue import config

    settings.QUEUE_LEASE_SECONDS = 7.5
    settings.QUEUE_UNKNOWN_SIZE_BYTES = 1024
    assert config.lease_seconds() == 7.5
    assert config.unknown_size_estimate_bytes() == 1024


def test_only_the_settings_read_the_environment():
    """Every variable goes through aniworld_site.env (the launcher in stack.py runs before Django)."""
    readers = []
    for package in ("apps", "workers", "aniworld_site"):
        for path in (PROJECT_DIR / package).rglob("*.py"):
            text = path.read_text()
            if ("os.environ.get(" in text or "os.getenv(" in text) and path.name not in ("env.py", "stack.py"):
                readers.append(str(path.relative_to(PROJECT_DIR)))
    assert readers == []
