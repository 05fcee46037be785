"""GET/PUT /api/config: every field's validation, the all-or-nothing rule, masking and history."""

from __future__ import annotations

import logging

import pytest
from rest_framework.test import APIClient

from apps.configuration import defaults, selectors
from apps.configuration.models import Settings, SettingsChange

pytestmark = pytest.mark.django_db

# (field, invalid value, a fragment of the message) — at least one bad value per field
INVALID_VALUES = [
    ("library_path", "relative/path", "absolute"),
    ("library_path", "", "absolute path"),
    ("library_path", "/srv/../etc", "'..'"),
    ("library_path", 42, "absolute path"),
    ("max_concurrent_downloads", 0, "between 1 and 20"),
    ("max_concurrent_downloads", 21, "between 1 and 20"),
    ("max_concurrent_downloads", "3", "whole number"),
    ("max_concurrent_downloads", True, "whole number"),
    ("max_retries", -1, "between 0 and 10"),
    ("max_retries", 11, "between 0 and 10"),
    ("retry_backoff_seconds", 0, "between 1"),
    ("retry_backoff_seconds", 2.5, "number of seconds"),
    ("language_preference", ["de", "xx"], "Unknown language"),
    ("language_preference", ["de", "de"], "more than once"),
    ("language_preference", [], "at least one"),
    ("language_preference", "de", "list"),
    ("hoster_preference", ["VOE", "Megaupload"], "Unknown hoster"),
    ("hoster_preference", ["VOE", "voe"], "more than once"),
    ("hoster_preference", [], "at least one"),
    ("naming_template", "{series_title}/{season}/{episode}/{foo}", "Unknown placeholder {foo}"),
    ("naming_template", "{series_title}/{series_title} - E{episode}", "must contain {season}"),
    ("naming_template", "{series_title}/S{season}", "must contain {episode}"),
    ("naming_template", "{series_title} S{season}E{episode}", "series folder and a file name"),
    ("naming_template", "/abs/{series_title} S{season}E{episode}", "relative"),
    ("naming_template", "../{series_title} S{season}E{episode}", "'..'"),
    ("naming_template", "{series_title}//S{season}E{episode}", "empty"),
    ("naming_template", "{series_title.__class__}/S{season}E{episode}", "Unknown placeholder"),
    ("naming_template", "{series_title!r}/S{season}E{episode}", "Conversions"),
    ("naming_template", "{series_title:02d}/S{season}E{episode}", "does not work"),
    ("naming_template", "{series_title/S{season}E{episode}", "braces"),
    ("naming_template", "", "empty"),
    ("naming_template", 5, "as text"),
    ("provider_urls", {"aniworld": "ftp://aniworld.to"}, "http:// or https://"),
    ("provider_urls", {"aniworld": "https://"}, "no host"),
    ("provider_urls", {"sto": "https://s.to/?x=1"}, "without ?query"),
    ("provider_urls", {"crunchy": "https://example.org"}, "Unknown site"),
    ("provider_urls", "https://aniworld.to", "object keyed by site"),
    ("request_rates", {"aniworld": 0}, "above 0"),
    ("request_rates", {"sto": -1}, "above 0"),
    ("request_rates", {"sto": "fast"}, "number of requests"),
    ("request_rates", {"aniworld": 1000}, "at most"),
    ("check_new_episodes_hours", -1, "between 0"),
    ("check_new_episodes_hours", 24 * 7 + 1, "between 0"),
    ("auto_queue_new_episodes", "yes", "true or false"),
    ("hoster_order_automatic", "yes", "true or false"),
    ("nightly_rescan_enabled", 1, "true or false"),
    ("nightly_rescan_time", "25:00", "HH:MM"),
    ("nightly_rescan_time", "noon", "HH:MM"),
    ("history_retention_days", -5, "between 0"),
    ("history_retention_days", 100000, "between 0"),
    ("speed_limit_bytes", -1, "between 0"),
    ("speed_limit_bytes", "fast", "bytes per second"),
    ("notification_urls", ["bogus://nothing"], "not an Apprise URL"),
    ("notification_urls", ["not a url"], "not an Apprise URL"),
    ("notification_urls", "json://127.0.0.1/", "list"),
    ("notification_events", ["download_started"], "Unknown event"),
    ("notification_events", ["new_episodes", "new_episodes"], "more than once"),
    ("jellyfin_url", "jellyfin.local:8096", "http:// or https://"),
    ("jellyfin_api_key", "has space", "spaces"),
    ("plex_url", "http:///nohost", "no host"),
    ("plex_token", 12345, "string"),
    ("plex_section_id", "music", "numeric id"),
    ("revision", 99, "read-only"),
    ("setup_completed", True, "read-only"),
    ("no_such_setting", 1, "Unknown setting"),
]

VALID_VALUES = [
    ("library_path", "/srv/anime/", "/srv/anime"),
    ("max_concurrent_downloads", 20, 20),
    ("max_retries", 0, 0),
    ("retry_backoff_seconds", 5, 5),
    ("language_preference", ["en-sub", "de"], ["en-sub", "de"]),
    ("hoster_preference", ["vidoza", "VOE"], ["Vidoza", "VOE"]),
    ("naming_template", "{series_title}/S{season:02d}/{episode:03d} {episode_title}", None),
    (
        "provider_urls",
        {"sto": "http://127.0.0.1:8001/"},
        {"aniworld": "https://aniworld.to", "sto": "http://127.0.0.1:8001"},
    ),
    ("request_rates", {"aniworld": 2}, {"aniworld": 2.0, "sto": 0.5}),
    ("check_new_episodes_hours", 0, 0),
    ("auto_queue_new_episodes", True, True),
    ("hoster_order_automatic", True, True),
    ("nightly_rescan_enabled", False, False),
    ("nightly_rescan_time", "4:05", "04:05"),
    ("history_retention_days", 0, 0),
    ("speed_limit_bytes", 5_000_000, 5_000_000),
    ("notification_events", ["download_failed"], ["download_failed"]),
    ("plex_section_id", 3, "3"),
]


@pytest.mark.parametrize(("field", "value", "fragment"), INVALID_VALUES)
def test_each_invalid_field_is_rejected_with_a_reason(owner_client, field, value, fragment):
    response = owner_client.put("/api/config", {field: value}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_settings"
    assert [key for key in error["details"] if "." not in key] == [field]
    assert all(key.startswith(field + ".") for key in error["details"] if "." in key)  # one site's own input
    assert any(fragment in message for message in error["details"][field]), error["details"]
    assert not Settings.objects.exists()


@pytest.mark.parametrize(("field", "value", "stored"), VALID_VALUES)
def test_each_valid_field_is_saved_and_shown(owner_client, field, value, stored):
    response = owner_client.put("/api/config", {field: value}, format="json")
    assert response.status_code == 200, response.content
    expected = value if stored is None else stored
    assert response.json()[field] == expected
    assert owner_client.get("/api/config").json()[field] == expected


def test_get_shows_defaults_before_anything_is_saved(owner_client, settings):
    body = owner_client.get("/api/config").json()
    assert body["library_path"] == str(settings.DEFAULT_LIBRARY_DIR)
    assert body["max_concurrent_downloads"] == 2
    assert body["max_retries"] == 3
    assert body["language_preference"] == ["de", "de-sub", "en-sub"]
    assert body["hoster_preference"] == list(defaults.DEFAULT_HOSTER_PREFERENCE)
    assert body["naming_template"] == defaults.DEFAULT_NAMING_TEMPLATE
    assert body["provider_urls"] == {"aniworld": "https://aniworld.to", "sto": "https://s.to"}
    assert body["speed_limit_bytes"] == 0
    assert body["nightly_rescan_time"] == "03:30"
    assert body["setup_completed"] is False
    assert body["jellyfin_api_key"] == ""


def test_all_bad_fields_are_listed_together_and_nothing_is_saved(owner_client):
    response = owner_client.put(
        "/api/config",
        {
            "max_concurrent_downloads": 4,  # valid, must not be saved either
            "max_retries": 99,
            "library_path": "not/absolute",
            "language_preference": ["klingon"],
            "notification_urls": ["bogus://"],
        },
        format="json",
    )
    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert set(details) == {"max_retries", "library_path", "language_preference", "notification_urls"}
    assert owner_client.get("/api/config").json()["max_concurrent_downloads"] == 2
    assert not SettingsChange.objects.exists()
    assert selectors.max_concurrent_downloads() == 2


def test_partial_update_keeps_other_fields(owner_client):
    owner_client.put("/api/config", {"max_retries": 5, "library_path": "/srv/anime"}, format="json")
    owner_client.put("/api/config", {"max_retries": 6}, format="json")
    body = owner_client.get("/api/config").json()
    assert body["max_retries"] == 6
    assert body["library_path"] == "/srv/anime"


def test_patch_works_like_put(owner_client):
    response = owner_client.patch("/api/config", {"max_retries": 1}, format="json")
    assert response.status_code == 200
    assert response.json()["max_retries"] == 1


def test_body_must_be_an_object(owner_client):
    response = owner_client.put("/api/config", [1, 2], format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()["error"]["details"]


def test_config_requires_login(owner):
    assert APIClient().get("/api/config").status_code == 401
    assert APIClient().put("/api/config", {"max_retries": 1}, format="json").status_code == 401


def test_media_server_url_needs_its_key(owner_client):
    response = owner_client.put("/api/config", {"jellyfin_url": "http://jf.local:8096"}, format="json")
    assert response.status_code == 400
    assert "jellyfin_api_key" in response.json()["error"]["details"]
    response = owner_client.put("/api/config", {"plex_url": "http://plex.local:32400"}, format="json")
    assert "plex_token" in response.json()["error"]["details"]


def test_secrets_are_masked_and_the_mask_keeps_them(auth_client):
    response = auth_client.put(
        "/api/config",
        {
            "jellyfin_url": "http://jf.local:8096/",
            "jellyfin_api_key": "jf-secret-key-123",
            "plex_url": "http://plex.local:32400",
            "plex_token": "plex-token-xyz",
            "notification_urls": ["json://user:hunter2pass@127.0.0.1:9/"],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    for body in (response.json(), auth_client.get("/api/config").json()):
        text = str(body)
        assert "jf-secret-key-123" not in text
        assert "plex-token-xyz" not in text
        assert "hunter2pass" not in text
        assert body["jellyfin_api_key"] == defaults.SECRET_MASK
        assert body["plex_token"] == defaults.SECRET_MASK
        assert body["jellyfin_url"] == "http://jf.local:8096"

    # Sending the form back as shown keeps every secret.
    shown = auth_client.get("/api/config").json()
    echo = {key: shown[key] for key in ("jellyfin_api_key", "plex_token", "notification_urls")}
    assert auth_client.put("/api/config", {**echo, "max_retries": 4}, format="json").status_code == 200
    stored = Settings.objects.get()
    assert stored.jellyfin_api_key == "jf-secret-key-123"
    assert stored.plex_token == "plex-token-xyz"
    assert stored.notification_urls == ["json://user:hunter2pass@127.0.0.1:9/"]

    # An empty value clears a secret.
    auth_client.put("/api/config", {"plex_url": "", "plex_token": ""}, format="json")
    assert Settings.objects.get().plex_token == ""


def test_history_records_who_when_and_what_with_secrets_masked(auth_client, caplog):
    caplog.set_level(logging.DEBUG)
    auth_client.put("/api/config", {"max_retries": 7}, format="json")
    auth_client.put(
        "/api/config",
        {"max_retries": 8, "jellyfin_url": "http://jf.local", "jellyfin_api_key": "very-secret-1"},
        format="json",
    )
    changes = list(SettingsChange.objects.order_by("id"))
    assert [(c.field, c.old_value, c.new_value) for c in changes] == [
        ("max_retries", 3, 7),
        ("max_retries", 7, 8),
        ("jellyfin_url", "", "http://jf.local"),
        ("jellyfin_api_key", "", defaults.SECRET_MASK),
    ]
    assert {c.actor for c in changes} == {"owner"}
    assert [c.revision for c in changes] == [1, 2, 2, 2]
    assert all(c.changed_at for c in changes)
    assert "very-secret-1" not in caplog.text
    history = auth_client.get("/api/config/history").json()
    assert history[0]["field"] in {"max_retries", "jellyfin_url", "jellyfin_api_key"}
    assert "very-secret-1" not in str(history)
    assert len(auth_client.get("/api/config/history?limit=1").json()) == 1


def test_saving_unchanged_values_adds_no_history(owner_client):
    owner_client.put("/api/config", {"max_retries": 3}, format="json")
    assert not SettingsChange.objects.exists()


def test_accessors_follow_saved_settings(owner_client):
    owner_client.put(
        "/api/config",
        {
            "library_path": "/srv/anime",
            "max_concurrent_downloads": 6,
            "language_preference": ["en-sub", "de"],
            "hoster_preference": ["Vidoza"],
            "provider_urls": {"aniworld": "http://127.0.0.1:9999/"},
            "request_rates": {"sto": 0.25},
            "retry_backoff_seconds": 10,
            "speed_limit_bytes": 1000,
        },
        format="json",
    )
    from apps.catalog.types import Language, Site

    assert str(selectors.library_root()) == "/srv/anime"
    assert selectors.max_concurrent_downloads() == 6
    assert selectors.language_preference() == [Language.ENGLISH_SUB, Language.GERMAN_DUB]
    assert selectors.hoster_preference() == ["Vidoza"]
    assert selectors.provider_base_url(Site.ANIWORLD) == "http://127.0.0.1:9999"
    assert selectors.provider_base_url("sto") == "https://s.to"
    assert selectors.request_rate(Site.STO) == 0.25
    assert selectors.retry_backoff_seconds() == 10
    assert selectors.retry_backoff_seconds(3) == 40
    assert selectors.speed_limit() == 1000


@pytest.mark.parametrize(
    ("url_field", "secret_field", "old_url", "new_url"),
    [
        ("jellyfin_url", "jellyfin_api_key", "http://jf.local:8096", "http://attacker.example:8096"),
        ("plex_url", "plex_token", "http://plex.local:32400", "https://plex.local:32401"),
    ],
)
def test_a_changed_media_server_url_needs_the_key_again(owner_client, url_field, secret_field, old_url, new_url):
    saved = owner_client.put("/api/config", {url_field: old_url, secret_field: "stored-secret-1"}, format="json")
    assert saved.status_code == 200, saved.content
    for sent in ({url_field: new_url}, {url_field: new_url, secret_field: defaults.SECRET_MASK}):
        response = owner_client.put("/api/config", sent, format="json")
        assert response.status_code == 400, response.content
        details = response.json()["error"]["details"]
        assert secret_field in details and "again" in details[secret_field][0]
        assert getattr(Settings.objects.get(), url_field) == old_url
    # the same URL with the masked key keeps it; a new URL with the key typed again is fine
    assert (
        owner_client.put(
            "/api/config", {url_field: old_url, secret_field: defaults.SECRET_MASK}, format="json"
        ).status_code
        == 200
    )
    response = owner_client.put("/api/config", {url_field: new_url, secret_field: "stored-secret-1"}, format="json")
    assert response.status_code == 200
    assert getattr(Settings.objects.get(), url_field) == new_url
    assert owner_client.put("/api/config", {url_field: ""}, format="json").status_code == 200  # switching it off
