"""Hostile input gets a 4xx in the error shape, never a 500: deep JSON, huge ids, oversized bodies."""

from __future__ import annotations

import json

import pytest
from asgiref.testing import ApplicationCommunicator

from aniworld_site.limits import RequestBodyLimit
from apps.library.models import Series
from tests.api.test_errors_and_docs import assert_error

pytestmark = pytest.mark.django_db

HUGE = 2**63  # one past the largest database id
HUGER = 99999999999999999999
DEEP = "[" * 100_000


# --- deeply nested JSON --------------------------------------------------------------------


def test_deeply_nested_json_is_400_for_anonymous_login(api_client, owner):
    response = api_client.post("/api/auth/login", data=DEEP, content_type="application/json")
    assert_error(response, 400, "malformed_request")


def test_deeply_nested_json_is_400_for_the_owner(auth_client):
    response = auth_client.post("/api/queue/add", data='{"episode_ids": ' + DEEP, content_type="application/json")
    assert_error(response, 400, "malformed_request")


def test_nested_json_within_the_limit_still_parses(auth_client):
    response = auth_client.post("/api/queue/add", data='{"episode_ids": [[[1]]]}', content_type="application/json")
    assert_error(response, 400, "invalid")  # understood, and refused for its content


# --- ids beyond any database id -------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", f"/api/queue/{HUGE}"),
        ("get", f"/api/queue/{HUGER}"),
        ("post", f"/api/queue/{HUGE}/priority"),
        ("post", f"/api/queue/{HUGE}/pause"),
        ("get", f"/api/anime/{HUGE}"),
        ("post", f"/api/anime/{HUGE}/download"),
        ("get", f"/api/anime/{HUGE}/cover"),
    ],
)
def test_huge_path_id_is_400(auth_client, method, path):
    error = assert_error(getattr(auth_client, method)(path, {}, format="json"), 400, "invalid")
    assert "pk" in error["details"]


def test_huge_path_id_on_a_page_is_400(client, owner, owner_password):
    client.post("/api/auth/login", {"password": owner_password}, content_type="application/json")
    assert client.get(f"/library/{HUGE}").status_code == 400


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/queue/add", {"episode_ids": [HUGER]}, "episode_ids"),
        ("/api/queue/add", {"episode_ids": [HUGE]}, "episode_ids"),
        ("/api/queue/retry", {"ids": [HUGER]}, "ids"),
        ("/api/queue/reorder", {"item_id": HUGER, "new_position": 0}, "item_id"),
    ],
)
def test_huge_id_in_a_body_is_400(auth_client, path, body, field):
    error = assert_error(auth_client.post(path, body, format="json"), 400, "invalid")
    assert field in error["details"]


def test_huge_id_in_a_batch_remove_is_400(auth_client):
    error = assert_error(auth_client.delete("/api/queue/", {"ids": [HUGER]}, format="json"), 400, "invalid")
    assert "ids" in error["details"]


def test_huge_episode_id_in_a_series_download_is_400(auth_client):
    series = Series.objects.create(site="aniworld", slug="test-anime", title="Test Anime")
    response = auth_client.post(f"/api/anime/{series.pk}/download", {"episode_ids": [HUGER]}, format="json")
    assert "episode_ids" in assert_error(response, 400, "invalid")["details"]


def test_largest_id_is_an_ordinary_not_found(auth_client):
    assert_error(auth_client.get(f"/api/queue/{HUGE - 1}"), 404, "not_found")


# --- request bodies (the ASGI layer; the live daphne test covers the server) --------------------


def _http_scope(headers: list[tuple[bytes, bytes]]) -> dict:
    return {"type": "http", "method": "POST", "path": "/api/auth/login", "headers": headers}


async def _run(app, scope: dict, chunks: list[bytes]) -> list[dict]:
    communicator = ApplicationCommunicator(app, scope)
    for index, chunk in enumerate(chunks):
        await communicator.send_input({"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1})
    messages = [await communicator.receive_output(2)]
    while messages[-1]["type"] != "http.response.body" or messages[-1].get("more_body"):
        messages.append(await communicator.receive_output(2))
    await communicator.wait(2)
    return messages


class EchoLength:
    """A stand-in application that reads the whole body, as Django would, and answers its length."""

    def __init__(self) -> None:
        self.called = False

    async def __call__(self, scope, receive, send) -> None:
        self.called = True
        size, more = 0, True
        while more:
            message = await receive()
            size += len(message.get("body", b""))
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(size).encode()})


def _assert_413(messages: list[dict], limit: int) -> None:
    assert messages[0]["status"] == 413
    error = json.loads(messages[1]["body"])["error"]
    assert error["code"] == "request_too_large" and error["details"] == {"limit_bytes": limit}


async def test_declared_oversized_body_is_refused_before_the_app_runs(settings):
    settings.MAX_REQUEST_BODY_BYTES = 1000
    app = EchoLength()
    messages = await _run(RequestBodyLimit(app), _http_scope([(b"content-length", b"5000")]), [b"x" * 5000])
    _assert_413(messages, 1000)
    assert app.called is False


async def test_streamed_body_without_length_is_cut_at_the_limit(settings):
    settings.MAX_REQUEST_BODY_BYTES = 1000
    messages = await _run(RequestBodyLimit(EchoLength()), _http_scope([]), [b"x" * 600, b"x" * 600, b"x" * 600])
    _assert_413(messages, 1000)


async def test_body_within_the_limit_reaches_the_app(settings):
    settings.MAX_REQUEST_BODY_BYTES = 1000
    messages = await _run(RequestBodyLimit(EchoLength()), _http_scope([]), [b"x" * 500, b"x" * 500])
    assert messages[0]["status"] == 200 and messages[1]["body"] == b"1000"
