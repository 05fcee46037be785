"""Apprise notifications to a local HTTP receiver; media-server refresh against a fake local server."""

from __future__ import annotations

import logging

import pytest

from aniworld_site.stack import free_port
from apps.configuration import notifications, services
from workers import schedules as schedule_tasks

pytestmark = pytest.mark.django_db


def configure(**changes):
    services.update_settings(changes, actor="owner")


def test_notification_reaches_every_apprise_target(receiver):
    configure(notification_urls=[f"json://127.0.0.1:{receiver.port}/", f"json://127.0.0.1:{receiver.port}/second"])
    assert notifications.send_notification_now("download_complete", "Done", "Frieren S01E03 downloaded.") is True
    assert sorted(request.path for request in receiver.requests) == ["/", "/second"]
    message = receiver.requests[0].json()
    assert message["title"] == "Done"
    assert message["message"] == "Frieren S01E03 downloaded."
    assert message["type"] == "success"


def test_failed_download_is_sent_as_a_failure(receiver):
    configure(notification_urls=[f"json://127.0.0.1:{receiver.port}/"])
    notifications.send_notification_now("download_failed", "Failed", "No hoster worked.")
    assert receiver.requests[0].json()["type"] == "failure"


def test_events_the_owner_did_not_choose_are_not_sent(receiver):
    configure(notification_urls=[f"json://127.0.0.1:{receiver.port}/"], notification_events=["download_failed"])
    assert notifications.send_notification_now("download_complete", "Done", "x") is False
    assert notifications.notify("download_complete", "Done", "x") is False
    assert receiver.requests == []


def test_nothing_configured_sends_nothing(receiver):
    assert notifications.notify("download_complete", "Done", "x") is False
    assert notifications.send_notification_now("download_complete", "Done", "x") is False


def test_unknown_event_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown notification event"):
        notifications.notify("download_started", "x", "y")


def test_notify_goes_through_the_celery_task(receiver, eager_celery, django_capture_on_commit_callbacks):
    configure(notification_urls=[f"json://127.0.0.1:{receiver.port}/"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert notifications.notify("new_episodes", "New", "2 new episodes.") is True
        assert receiver.requests == []  # nothing is sent before the caller's transaction commits
    assert len(callbacks) == 1
    assert receiver.requests[0].json()["message"] == "2 new episodes."
    assert schedule_tasks.send_notification.queue == "maintenance"


def test_unreachable_target_is_reported_not_raised(receiver, caplog):
    configure(notification_urls=["json://user:topsecret@127.0.0.1:1/"])
    caplog.set_level(logging.DEBUG)
    assert notifications.send_notification_now("download_complete", "Done", "x") is False
    assert "topsecret" not in caplog.text


def test_receiver_error_counts_as_failure(receiver):
    receiver.status = 500
    configure(notification_urls=[f"json://127.0.0.1:{receiver.port}/"])
    assert notifications.send_notification_now("download_complete", "Done", "x") is False
    assert len(receiver.requests) == 1


# --- media servers ---------------------------------------------------------------------


def test_jellyfin_and_plex_are_asked_to_refresh(receiver, caplog):
    caplog.set_level(logging.DEBUG)
    configure(
        jellyfin_url=f"{receiver.url}/jellyfin",
        jellyfin_api_key="jf-key-123",
        plex_url=f"{receiver.url}/plex",
        plex_token="plex-token-456",
        plex_section_id="3",
    )
    results = notifications.refresh_media_servers_now()
    assert [(result["server"], result["ok"]) for result in results] == [("jellyfin", True), ("plex", True)]
    jellyfin, plex = receiver.requests
    assert (jellyfin.method, jellyfin.path) == ("POST", "/jellyfin/Library/Refresh")
    assert jellyfin.headers["x-emby-token"] == "jf-key-123"
    assert (plex.method, plex.path) == ("GET", "/plex/library/sections/3/refresh")
    assert plex.query["X-Plex-Token"] == ["plex-token-456"]
    assert "jf-key-123" not in caplog.text and "plex-token-456" not in caplog.text


def test_plex_without_section_refreshes_all(receiver):
    configure(plex_url=receiver.url, plex_token="t0ken")
    notifications.refresh_media_servers_now()
    assert receiver.requests[0].path == "/library/sections/all/refresh"


def test_refused_credentials_and_errors_are_reported(receiver):
    receiver.status = 401
    configure(jellyfin_url=receiver.url, jellyfin_api_key="wrong")
    (result,) = notifications.refresh_media_servers_now()
    assert result["ok"] is False
    assert "refused the credentials" in result["detail"]

    receiver.status = 500
    (result,) = notifications.refresh_media_servers_now()
    assert result == {"server": "jellyfin", "ok": False, "detail": "jellyfin answered HTTP 500"}


def test_unreachable_media_server_never_raises(caplog):
    port = free_port()  # nothing listens on it
    configure(plex_url=f"http://127.0.0.1:{port}", plex_token="secret-plex-token")
    caplog.set_level(logging.DEBUG)
    (result,) = notifications.refresh_media_servers_now()
    assert result["ok"] is False
    assert "unreachable" in result["detail"]
    assert "secret-plex-token" not in caplog.text


def test_request_media_refresh_runs_the_task_after_commit(receiver, eager_celery, django_capture_on_commit_callbacks):
    assert notifications.request_media_refresh() is False  # nothing configured
    configure(jellyfin_url=receiver.url, jellyfin_api_key="k")
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications.request_media_refresh() is True
    assert [request.path for request in receiver.requests] == ["/Library/Refresh"]
