"""POST /api/config/validate (live checks), POST /api/setup (first-run step 2) and the settings page."""

from __future__ import annotations

import os
import stat

import pytest
from django.template.loader import render_to_string
from rest_framework.test import APIClient

from apps.configuration import defaults, selectors, services
from apps.configuration.models import Settings, SettingsChange
from apps.library import naming
from tests.conftest import OWNER_PASSWORD

pytestmark = pytest.mark.django_db


def test_validate_reports_live_checks_without_saving(auth_client, tmp_path):
    response = auth_client.post(
        "/api/config/validate", {"library_path": str(tmp_path), "max_retries": 5}, format="json"
    )
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["valid"] is True, report
    assert report["errors"] == {}
    assert report["checks"]["library_path"]["ok"] is True
    assert report["checks"]["ffmpeg"]["ok"] is True
    assert os.path.exists(report["checks"]["ffmpeg"]["data"]["path"])
    preview = report["checks"]["naming_template"]["data"]["preview"]
    assert preview == naming.preview(defaults.DEFAULT_NAMING_TEMPLATE)["episode"]
    assert "/Season 01/" in preview and "S01E03" in preview and preview.endswith(".mkv")
    assert "/Season 00/" in report["checks"]["naming_template"]["data"]["film_preview"]
    assert report["checks"]["provider_urls"]["ok"] is True
    assert list(tmp_path.iterdir()) == []  # the write test cleaned up after itself
    assert not Settings.objects.exists()
    assert selectors.max_retries() == 3


def test_validate_names_a_missing_library_folder_and_bad_fields(auth_client, tmp_path):
    missing = tmp_path / "not-there"
    response = auth_client.post(
        "/api/config/validate",
        {"library_path": str(missing), "naming_template": "{series_title}", "max_concurrent_downloads": 0},
        format="json",
    )
    report = response.json()
    assert report["valid"] is False
    assert set(report["errors"]) == {"naming_template", "max_concurrent_downloads"}
    assert report["checks"]["library_path"]["ok"] is False
    assert "does not exist" in report["checks"]["library_path"]["detail"]
    assert report["checks"]["naming_template"]["ok"] is False
    assert not missing.exists()


def test_validate_names_a_library_path_that_is_a_file(auth_client, tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    report = auth_client.post("/api/config/validate", {"library_path": str(target)}, format="json").json()
    assert report["valid"] is False
    assert "is not a folder" in report["checks"]["library_path"]["detail"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_validate_names_a_read_only_library_folder(auth_client, tmp_path):
    tmp_path.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        report = auth_client.post("/api/config/validate", {"library_path": str(tmp_path)}, format="json").json()
    finally:
        tmp_path.chmod(stat.S_IRWXU)
    assert report["checks"]["library_path"]["ok"] is False
    assert "Cannot write" in report["checks"]["library_path"]["detail"]


def test_setup_requires_login(owner):
    response = APIClient().post("/api/setup", {"library_path": "/tmp/x", "language_preference": ["de"]}, format="json")
    assert response.status_code == 401


def test_setup_saves_path_and_languages_once(auth_client, tmp_path):
    library = tmp_path / "anime"
    response = auth_client.post(
        "/api/setup", {"library_path": str(library), "language_preference": ["de-sub", "de"]}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["setup_completed"] is True
    assert body["library_path"] == str(library)
    assert library.is_dir()  # created for the owner
    assert selectors.library_root() == library
    assert [language.value for language in selectors.language_preference()] == ["de-sub", "de"]
    assert selectors.setup_completed() is True
    assert {change.field for change in SettingsChange.objects.all()} == {
        "library_path",
        "language_preference",
        "setup_completed_at",
    }

    again = auth_client.post("/api/setup", {"library_path": str(library), "language_preference": ["de"]}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"


def test_setup_lists_every_bad_field_and_saves_nothing(auth_client):
    response = auth_client.post("/api/setup", {"library_path": "anime", "language_preference": []}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"library_path", "language_preference"}
    assert selectors.setup_completed() is False
    response = auth_client.post("/api/setup", {}, format="json")
    assert set(response.json()["error"]["details"]) == {"library_path", "language_preference"}


def test_setup_refuses_a_folder_it_cannot_create(auth_client, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    response = auth_client.post(
        "/api/setup", {"library_path": str(blocker / "anime"), "language_preference": ["de"]}, format="json"
    )
    assert response.status_code == 400
    assert "Cannot create" in response.json()["error"]["details"]["library_path"][0]
    assert selectors.setup_completed() is False


def test_the_browser_wizard_can_do_both_steps_with_a_session(client, tmp_path):
    assert (
        client.post("/api/auth/setup", {"password": OWNER_PASSWORD}, content_type="application/json").status_code == 201
    )
    assert (
        client.post("/api/auth/login", {"password": OWNER_PASSWORD}, content_type="application/json").status_code == 200
    )
    response = client.post(
        "/api/setup",
        {"library_path": str(tmp_path / "lib"), "language_preference": ["de", "en-sub"]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content


def test_setup_page_contains_both_wizard_steps(client):
    html = client.get("/setup").content.decode()
    assert 'id="setup-form"' in html
    assert 'id="library-form"' in html
    assert "language-order" in html


def test_setup_page_can_open_directly_at_step_two(rf):
    html = render_to_string("accounts/setup.html", {"library_step": True}, request=rf.get("/setup"))
    assert '<section id="setup-step-password" class="d-none">' in html
    assert '<section id="setup-step-library">' in html
    first_step = render_to_string("accounts/setup.html", {}, request=rf.get("/setup"))
    assert '<section id="setup-step-library" class="d-none">' in first_step


def test_settings_page_needs_login_and_renders_the_form(client, owner):
    response = client.get("/settings")
    assert response.status_code == 302 and response["Location"].startswith("/login")
    client.post("/api/auth/login", {"password": OWNER_PASSWORD}, content_type="application/json")
    html = client.get("/settings").content.decode()
    assert 'id="settings-form"' in html
    for field in ("library_path", "max_concurrent_downloads", "naming_template", "notification_urls", "plex_token"):
        assert f'name="{field}"' in html
    assert "configuration/settings.js" in html


def test_admin_lists_settings_history_read_only(client, owner):
    services.update_settings({"max_retries": 2}, actor="owner")
    client.post("/api/auth/login", {"password": OWNER_PASSWORD}, content_type="application/json")
    response = client.get("/admin/configuration/settingschange/")
    assert response.status_code == 200
    assert "max_retries" in response.content.decode()
    assert client.get("/admin/configuration/settingschange/add/").status_code == 403
