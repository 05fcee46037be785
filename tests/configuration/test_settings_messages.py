"""Settings errors read as the form does, each under its own input; the naming preview follows the owner's series;
an empty password reads like every other password problem."""

from __future__ import annotations

import pytest

from apps.library.models import Episode, Season, Series

pytestmark = pytest.mark.django_db


def test_errors_name_fields_as_the_form_does_and_stay_with_their_input(auth_client):
    response = auth_client.put(
        "/api/config",
        {"library_path": "relative", "provider_urls": {"aniworld": "ftp://x", "sto": "https://s.to"}},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert "library_path" not in error["message"] and "provider_urls" not in error["message"]
    assert "Library folder" in error["message"] and "Catalog site URLs" in error["message"]
    assert error["details"]["provider_urls.aniworld"] == ["Must start with http:// or https://."]
    assert "provider_urls.sto" not in error["details"]

    rates = auth_client.put("/api/config", {"request_rates": {"sto": 0}}, format="json").json()["error"]["details"]
    assert list(rates) == ["request_rates", "request_rates.sto"]


def test_live_checks_are_labelled(auth_client):
    checks = auth_client.post("/api/config/validate", {}, format="json").json()["checks"]
    assert checks["library_path"]["label"] == "Library folder"
    assert checks["naming_template"]["label"] == "File naming template"


def test_naming_preview_uses_one_of_the_owners_series(auth_client):
    template = "{series_title}/S{season:02d}E{episode:02d}"
    empty = auth_client.post("/api/config/naming-preview", {"naming_template": template}, format="json").json()
    assert empty["ok"] and empty["sample"].startswith("Re:Zero") and empty["preview"].startswith("Re-Zero")
    series = Series.objects.create(site="aniworld", slug="moonlit-blade", title="Moonlit Blade", year=2019)
    Episode.objects.create(season=Season.objects.create(series=series, number=1), number=3, title_de="Neumond")
    own = auth_client.post("/api/config/naming-preview", {"naming_template": template}, format="json").json()
    assert own == {
        "ok": True,
        "problems": [],
        "preview": "Moonlit Blade/S01E03.mkv",
        "film_preview": "Moonlit Blade/S00E01.mkv",
        "sample": "Moonlit Blade",
    }
    bad = auth_client.post("/api/config/naming-preview", {"naming_template": "{nope}"}, format="json").json()
    assert bad["ok"] is False and bad["problems"] and bad["preview"] is None


def test_an_empty_password_reads_like_the_other_problems(api_client):
    setup = api_client.post("/api/auth/setup", {"password": ""}, format="json").json()["error"]
    assert setup["code"] == "weak_password" and "password:" not in setup["message"]
    assert setup["message"].startswith("The password is too weak: Use at least 12 characters")


def test_an_empty_login_asks_for_the_password(api_client, owner):
    error = api_client.post("/api/auth/login", {"password": ""}, format="json").json()["error"]
    assert error["message"] == "Enter your password."
