"""The cached accessor: defaults without a row, no crash without a table, changes seen by other processes at once."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from apps.configuration import defaults, selectors, services
from apps.configuration.models import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]

WORKER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import django
    django.setup()
    from apps.configuration import selectors

    print("ready", selectors.max_concurrent_downloads(), selectors.hoster_preference()[0], flush=True)
    for line in sys.stdin:
        expected = int(line)
        started = time.monotonic()
        while selectors.max_concurrent_downloads() != expected and time.monotonic() - started < 10:
            time.sleep(0.005)
        print("seen", selectors.max_concurrent_downloads(), selectors.hoster_preference()[0],
              round(time.monotonic() - started, 3), flush=True)
    """
)


@pytest.mark.django_db
def test_defaults_apply_before_any_row_exists():
    assert not Settings.objects.exists()
    assert selectors.max_concurrent_downloads() == 2
    assert selectors.max_retries() == 3
    assert selectors.library_root() == Path(settings.DEFAULT_LIBRARY_DIR)
    assert [language.value for language in selectors.language_preference()] == ["de", "de-sub", "en-sub"]
    assert selectors.speed_limit() == 0
    assert selectors.setup_completed() is False


@pytest.mark.django_db
def test_same_process_sees_its_own_change_immediately():
    assert selectors.max_concurrent_downloads() == 2  # cached now
    services.update_settings({"max_concurrent_downloads": 9}, actor="owner")
    assert selectors.max_concurrent_downloads() == 9


@pytest.mark.django_db(transaction=True)
def test_missing_table_gives_defaults_instead_of_crashing():
    with connection.schema_editor() as editor:
        editor.delete_model(Settings)
    try:
        selectors.invalidate_cache()
        assert selectors.max_concurrent_downloads() == 2
        assert selectors.naming_template()
    finally:
        with connection.schema_editor() as editor:
            editor.create_model(Settings)


def _database_url_for_children() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_change_in_one_process_is_seen_by_another_at_once():
    if connection.vendor == "sqlite":
        pytest.skip(
            "needs a database another process can open: the SQLite test database is in memory; "
            "runs on PostgreSQL (127.0.0.1:5432)"
        )
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_XDIST_WORKER"}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=_database_url_for_children(),
        ANIWORLD_KEY_PREFIX=settings.KEY_PREFIX,
        PYTHONPATH=str(REPO_ROOT),
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER_SCRIPT],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        # the worker has cached the defaults
        assert worker.stdout.readline().split() == ["ready", "2", defaults.DEFAULT_HOSTER_PREFERENCE[0]]

        services.update_settings({"max_concurrent_downloads": 7, "hoster_preference": ["VOE"]}, actor="owner")
        worker.stdin.write("7\n")
        worker.stdin.flush()
        seen, value, hoster, waited = worker.stdout.readline().split()
        assert (seen, value, hoster) == ("seen", "7", "VOE")
        assert float(waited) < 0.5, f"the worker needed {waited}s to see the change"

        started = time.monotonic()
        services.update_settings({"max_concurrent_downloads": 3}, actor="owner")
        worker.stdin.write("3\n")
        worker.stdin.flush()
        assert worker.stdout.readline().split()[:2] == ["seen", "3"]
        assert time.monotonic() - started < 5
    finally:
        worker.stdin.close()
        worker.wait(timeout=30)
    assert worker.returncode == 0
