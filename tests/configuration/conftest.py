"""Fixtures for the configuration tests: a local HTTP receiver, eager Celery, a clean settings cache."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from aniworld_site.celery import app as celery_app
from apps.configuration import selectors


@pytest.fixture(autouse=True)
def _fresh_settings_cache():
    selectors.invalidate_cache()
    yield
    selectors.invalidate_cache()


@dataclass
class ReceivedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    """A tiny threaded HTTP server that records every request and answers with ``status``."""

    server: ThreadingHTTPServer
    requests: list[ReceivedRequest] = field(default_factory=list)
    status: int = 200

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return self.server.server_address[1]


@pytest.fixture
def receiver():
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            holder["receiver"].requests.append(
                ReceivedRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={key.lower(): value for key, value in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
            )
            self.send_response(holder["receiver"].status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _record

        def log_message(self, format, *args):  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["receiver"] = Receiver(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield holder["receiver"]
    server.shutdown()
    server.server_close()


@pytest.fixture
def eager_celery(monkeypatch):
    """Run queued tasks in this process (the real task code, without a broker)."""
    monkeypatch.setattr(celery_app.conf, "task_always_eager", True)
    monkeypatch.setattr(celery_app.conf, "task_eager_propagates", True)
    return celery_app


@pytest.fixture
def owner_client(db):
    """An API client authenticated as the owner without hashing a password (for the many validation cases)."""
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from apps.accounts.services import OWNER_USERNAME

    user = get_user_model().objects.create(username=OWNER_USERNAME, is_superuser=True, is_staff=True)
    user.set_unusable_password()
    user.save()
    client = APIClient()
    client.force_authenticate(user=user)
    return client
