"""Fixtures shared by every test: owner account, API clients, a clean cache per test."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.accounts import services as account_services

pytest_plugins = ["tests.fakesite.plugin", "tests.live", "tests.browser.fixtures"]

OWNER_PASSWORD = "Correct-Horse-42!"


def delete_cache_keys() -> None:
    """Remove this run's cache keys only (never FLUSHDB: the Redis may be shared)."""
    client = getattr(cache, "_cache", None)
    if client is None or not hasattr(client, "get_client"):
        cache.clear()
        return
    redis_client = client.get_client(write=True)
    for key in redis_client.scan_iter(match=f"{settings.KEY_PREFIX}:*", count=500):
        redis_client.delete(key)


@pytest.fixture(autouse=True)
def _fresh_state():
    account_services._setup_complete_cache = False
    delete_cache_keys()
    yield
    account_services._setup_complete_cache = False
    delete_cache_keys()


@pytest.fixture
def owner_password() -> str:
    return OWNER_PASSWORD


@pytest.fixture
def owner(db):
    return account_services.create_owner(OWNER_PASSWORD)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def auth_client(owner) -> APIClient:
    """An API client holding a Bearer token for the owner."""
    client = APIClient()
    response = client.post("/api/auth/login", {"password": OWNER_PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
    return fresh


@pytest.fixture
def sent_tasks(monkeypatch) -> list[dict]:
    """Tasks sent by name through ``aniworld_site.tasks.send_on_commit``, recorded at commit instead of sent."""
    from aniworld_site import tasks

    records: list[dict] = []

    def record(name, args, kwargs, queue, task_id):
        records.append({"name": name, "args": args, "kwargs": kwargs, "queue": queue, "task_id": task_id})

    monkeypatch.setattr(tasks, "_send", record)
    return records
