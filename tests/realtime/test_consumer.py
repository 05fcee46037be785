"""The /ws/connect consumer, driven through the real middleware stack and the Redis channel layer."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from apps.accounts.services import session_store
from apps.realtime.consumers import CLOSE_TOO_SLOW, CLOSE_UNAUTHENTICATED
from apps.realtime.publish import disconnect_session, publish
from tests.realtime.conftest import action, communicator, connect_ok, expect_close, next_frame, ping

pytestmark = pytest.mark.django_db(transaction=True)

apublish = sync_to_async(publish)


async def joined(comm, *rooms: str) -> None:
    for room in rooms:
        await action(comm, action="join", room=room)
    await ping(comm)


# --- authentication --------------------------------------------------------------------------


async def test_browser_session_cookie_gets_connected_frame(login):
    session = (await login()).session_key
    comm = await connect_ok(communicator(session_key=session))
    frame = await next_frame(comm)
    assert frame["type"] == "connected"
    assert len(frame["data"]["connection_id"]) == 32
    assert frame["data"]["auth"] == "session"
    assert frame["timestamp"].endswith("Z")
    await ping(comm)
    await comm.disconnect()


async def test_token_in_first_frame_authenticates_api_client_without_origin(login):
    token = (await login()).token
    comm = await connect_ok(communicator(origin=None))
    await action(comm, action="auth", token=token)
    frame = await next_frame(comm)
    assert frame["type"] == "connected" and frame["data"]["auth"] == "token"
    await joined(comm, "downloads")
    await comm.disconnect()


async def test_wrong_token_is_refused_with_reason(login):
    await login()
    comm = await connect_ok(communicator(origin=None))
    await action(comm, action="auth", token="eyJhbGciOiJIUzI1NiJ9.e30.forged")
    frames, code = await expect_close(comm)
    assert code == CLOSE_UNAUTHENTICATED
    assert [f["data"]["code"] for f in frames] == ["invalid_token"]


async def test_no_token_times_out(db):
    comm = await connect_ok(communicator())
    frames, code = await expect_close(comm, timeout=3)
    assert code == CLOSE_UNAUTHENTICATED
    assert frames[-1]["type"] == "error" and frames[-1]["data"]["code"] == "auth_timeout"


async def test_token_in_url_is_ignored(login):
    token = (await login()).token
    comm = await connect_ok(communicator(path=f"/ws/connect?token={token}", origin=None))
    frames, code = await expect_close(comm, timeout=3)
    assert code == CLOSE_UNAUTHENTICATED
    assert all(f["type"] != "connected" for f in frames)


async def test_first_frame_must_be_auth(login):
    await login()
    comm = await connect_ok(communicator(origin=None))
    await action(comm, action="join", room="downloads")
    frames, code = await expect_close(comm)
    assert code == CLOSE_UNAUTHENTICATED and frames[-1]["data"]["code"] == "auth_required"


async def test_session_cookie_without_origin_is_not_enough(login):
    """A non-browser client must use a token: the cookie alone does not authenticate it."""
    session = (await login()).session_key
    comm = await connect_ok(communicator(session_key=session, origin=None))
    frames, code = await expect_close(comm, timeout=3)
    assert code == CLOSE_UNAUTHENTICATED
    assert all(f["type"] != "connected" for f in frames)


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "null",
        "http://localhost.evil.example",
        "http://localhost:9999",  # another service on the owner's machine
        "http://localhost",
        "https://localhost:8000",
        "http://127.0.0.1:8000",  # another host name than the one the page was served from
    ],
)
async def test_foreign_origin_is_refused_at_handshake(login, origin):
    """Origin must name the very scheme, host and port the socket was opened on."""
    session = (await login()).session_key
    connected, _ = await communicator(session_key=session, origin=origin).connect()
    assert connected is False


async def test_origin_is_compared_with_the_host_the_socket_was_opened_on(login):
    session = (await login()).session_key
    comm = await connect_ok(communicator(session_key=session, origin="http://127.0.0.1:9999", host="127.0.0.1:9999"))
    assert (await next_frame(comm))["type"] == "connected"
    await comm.disconnect()


async def test_host_outside_allowed_hosts_is_refused_even_when_origin_matches(login):
    session = (await login()).session_key
    comm = communicator(session_key=session, origin="http://evil.example:8000", host="evil.example:8000")
    connected, _ = await comm.connect()
    assert connected is False


async def test_trusted_origin_of_a_reverse_proxy_is_accepted(login, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://nas.example"]
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "nas.example"]
    session = (await login()).session_key
    comm = await connect_ok(communicator(session_key=session, origin="https://nas.example", host="nas.example"))
    assert (await next_frame(comm))["type"] == "connected"
    await comm.disconnect()


async def test_sockets_per_client_address_are_limited_before_authentication(settings):
    settings.REALTIME_MAX_CONNECTIONS_PER_ADDRESS = 2
    settings.REALTIME_AUTH_TIMEOUT_SECONDS = 30
    first, second = communicator(client="10.0.0.7"), communicator(client="10.0.0.7")
    await connect_ok(first)
    await connect_ok(second)
    connected, _ = await communicator(client="10.0.0.7").connect()
    assert connected is False  # a third socket from the same address, still unauthenticated ones
    other = await connect_ok(communicator(client="10.0.0.8"))  # another address is not affected
    await first.disconnect()
    again = await connect_ok(communicator(client="10.0.0.7"))  # a closed socket frees its place
    for comm in (second, other, again):
        await comm.disconnect()


async def test_logged_out_session_is_closed_on_next_action(login):
    session = (await login()).session_key
    comm = await connect_ok(communicator(session_key=session))
    assert (await next_frame(comm))["type"] == "connected"
    await sync_to_async(session_store(session).delete)(session)
    await asyncio.sleep(1.1)  # past the per-action re-check debounce
    await action(comm, action="ping")
    frames, code = await expect_close(comm)
    assert code == CLOSE_UNAUTHENTICATED and frames[-1]["data"]["code"] == "logged_out"


async def test_logged_out_session_is_closed_by_periodic_recheck(login, settings):
    settings.REALTIME_SESSION_RECHECK_SECONDS = 0.3
    token = (await login()).token
    comm = await connect_ok(communicator(origin=None))
    await action(comm, action="auth", token=token)
    assert (await next_frame(comm))["type"] == "connected"
    sessions = await sync_to_async(lambda: list(session_store().model.objects.values_list("session_key", flat=True)))()
    for key in sessions:
        await sync_to_async(session_store(key).delete)(key)
    frames, code = await expect_close(comm, timeout=3)
    assert code == CLOSE_UNAUTHENTICATED and frames[-1]["data"]["code"] == "logged_out"


async def test_disconnect_session_closes_only_that_sessions_sockets(login):
    first, second = await login(), await login()
    doomed = await connect_ok(communicator(session_key=first.session_key))
    doomed_token = await connect_ok(communicator(origin=None))
    await action(doomed_token, action="auth", token=first.token)
    survivor = await connect_ok(communicator(session_key=second.session_key))
    for comm in (doomed, doomed_token, survivor):
        assert (await next_frame(comm))["type"] == "connected"
    assert await sync_to_async(disconnect_session)(first.session_key) is True
    for comm in (doomed, doomed_token):
        frames, code = await expect_close(comm)
        assert code == CLOSE_UNAUTHENTICATED and frames[-1]["data"]["code"] == "logged_out"
    await ping(survivor)
    await survivor.disconnect()


# --- rooms and frames --------------------------------------------------------------------------


async def test_join_receive_leave(login):
    comm = await connect_ok(communicator(session_key=(await login()).session_key))
    await next_frame(comm)
    await joined(comm, "downloads")
    assert await apublish("download_complete", {"item_id": 3, "path": "x.mkv"}) is True
    frame = await next_frame(comm)
    assert frame["type"] == "download_complete" and frame["data"] == {"item_id": 3, "path": "x.mkv"}
    await action(comm, action="leave", room="downloads")
    await ping(comm)
    await apublish("download_complete", {"item_id": 4})
    assert await comm.receive_nothing(timeout=0.5)
    await comm.disconnect()


async def test_events_reach_only_their_rooms_and_once_per_socket(login):
    comm = await connect_ok(communicator(session_key=(await login()).session_key))
    await next_frame(comm)
    await joined(comm, "downloads", "series:5")
    await apublish("system_info", {"code": "x", "message": "not for this socket"})
    await apublish("download_progress", {"item_id": 9, "series_id": 5, "percent": 10})  # downloads + series:5
    frame = await next_frame(comm)
    assert frame["type"] == "download_progress" and frame["data"]["series_id"] == 5
    assert await comm.receive_nothing(timeout=0.5)
    await apublish("download_failed", {"item_id": 1, "series_id": 6, "error": "x"}, ["series:6"])
    assert await comm.receive_nothing(timeout=0.5)
    await comm.disconnect()


@pytest.mark.parametrize(
    ("sent", "code"),
    [
        ("{not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        ('{"action": "dance"}', "unknown_action"),
        ('{"room": "downloads"}', "unknown_action"),
        ('{"action": "join", "room": "kitchen"}', "unknown_room"),
        ('{"action": "join", "room": "series:abc"}', "unknown_room"),
        ('{"action": "join"}', "unknown_room"),
        ('{"action": "auth", "token": "x"}', "already_authenticated"),
        ("x" * 10000, "frame_too_large"),
        pytest.param("[" * 8000, "bad_json", id="nested-deeper-than-the-parser-follows"),
    ],
)
async def test_malformed_frames_get_an_error_and_the_socket_survives(login, sent, code):
    comm = await connect_ok(communicator(session_key=(await login()).session_key))
    await next_frame(comm)
    await comm.send_to(text_data=sent)
    frame = await next_frame(comm)
    assert frame["type"] == "error" and frame["data"]["code"] == code, frame
    assert frame["data"]["message"]
    await ping(comm)
    await comm.disconnect()


async def test_binary_frame_gets_an_error(login):
    comm = await connect_ok(communicator(session_key=(await login()).session_key))
    await next_frame(comm)
    await comm.send_to(bytes_data=b"\x00\x01")
    assert (await next_frame(comm))["data"]["code"] == "text_only"
    await ping(comm)
    await comm.disconnect()


# --- slow clients ---------------------------------------------------------------------------------


async def test_backed_up_client_gets_coalesced_progress_latest_state_wins(login):
    backlog = {"bytes": 0}
    comm = await connect_ok(
        communicator(session_key=(await login()).session_key, pending_bytes=lambda: backlog["bytes"])
    )
    await next_frame(comm)
    await joined(comm, "downloads")
    backlog["bytes"] = 10**9  # the client stopped reading
    for percent in range(1, 21):
        await apublish("download_progress", {"item_id": 1, "percent": percent})
    await apublish("download_complete", {"item_id": 1})
    await asyncio.sleep(0.3)
    assert await comm.receive_nothing(timeout=0.2)
    backlog["bytes"] = 0
    frames = [await next_frame(comm), await next_frame(comm)]
    assert [(f["type"], f["data"].get("percent")) for f in frames] == [
        ("download_progress", 20),
        ("download_complete", None),
    ]
    assert await comm.receive_nothing(timeout=0.3)
    await comm.disconnect()


async def test_client_that_falls_behind_is_dropped_with_4008(login, settings):
    settings.REALTIME_OUTBOX_LIMIT = 5
    comm = await connect_ok(communicator(session_key=(await login()).session_key, pending_bytes=lambda: 10**9))
    await joined_without_reading(comm, "downloads")
    for item in range(10):  # completions are never coalesced
        await apublish("download_complete", {"item_id": item})
    frames, code = await expect_close(comm)
    assert code == CLOSE_TOO_SLOW
    assert frames[-1]["data"]["code"] == "too_slow"


async def joined_without_reading(comm, room: str) -> None:
    """Join while the outbox cannot drain: wait until the group holds the socket."""
    from apps.realtime.selectors import connection_status

    await action(comm, action="join", room=room)
    for _ in range(50):
        status = await sync_to_async(connection_status)()
        if status["rooms"].get(room):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("join did not take effect")
