"""The anime API: contract, filters, errors; refresh and add against the fake catalog site."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIRequestFactory, force_authenticate

from apps.catalog import services as catalog
from apps.catalog.types import Language, LayoutChanged, SiteBlocking
from apps.library import services
from apps.library.models import Episode, EpisodeState, Series
from apps.library.views import AddSeriesView


@pytest.fixture
def shows(library, make_series, make_episode):
    """Two series: one with missing episodes, one complete and unmonitored on s.to."""
    titan = make_series("Attack on Titan", year=2013, alternative_titles=["Shingeki no Kyojin"])
    make_episode(titan, 1, 1, state="present", file_path="a.mkv", file_language="de", languages_available=["de"])
    make_episode(titan, 1, 2, languages_available=["de", "de-sub"])
    make_episode(
        titan, 1, 3, state="present", file_path="c.mkv", file_language="en-sub", languages_available=["de-sub"]
    )
    make_episode(titan, 0, 1, languages_available=["en"])  # only English Dub: not wanted by default
    make_episode(titan, 1, 4, state="ignored")
    harbor = make_series("Harbor Lights", site="sto", year=2015, monitored=False)
    make_episode(harbor, 1, 1, state="present", file_path="h.mkv")
    return titan, harbor


def test_endpoints_need_login(api_client, owner):
    for method, url in [
        ("get", "/api/anime"),
        ("get", "/api/anime/1"),
        ("post", "/api/anime/rescan"),
        ("post", "/api/anime/1/refresh"),
        ("post", "/api/anime/1/download"),
    ]:
        response = getattr(api_client, method)(url)
        assert response.status_code == 401, url
        assert response.json()["error"]["code"] == "not_authenticated"


def test_list_counts_and_filters(auth_client, shows):
    body = auth_client.get("/api/anime").json()
    assert body["count"] == 2
    titan = next(row for row in body["results"] if row["title"] == "Attack on Titan")
    assert (titan["episode_count"], titan["present_count"], titan["missing_count"]) == (5, 2, 2)

    def titles(query: str) -> list[str]:
        response = auth_client.get(f"/api/anime{query}")
        assert response.status_code == 200, response.content
        return [row["title"] for row in response.json()["results"]]

    assert titles("?missing=true") == ["Attack on Titan"]
    assert titles("?missing=false") == ["Harbor Lights"]
    assert titles("?site=sto") == ["Harbor Lights"]
    assert titles("?monitored=false") == ["Harbor Lights"]
    assert titles("?search=kyojin") == ["Attack on Titan"]
    assert titles("?search=nothing-like-this") == []
    assert len(auth_client.get("/api/anime?page_size=1").json()["results"]) == 1


@pytest.mark.parametrize("query", ["?missing=maybe", "?site=netflix", "?monitored=2", "?page=99"])
def test_list_rejects_bad_parameters(auth_client, shows, query):
    response = auth_client.get(f"/api/anime{query}")
    assert response.status_code in (400, 404)
    assert "error" in response.json()


def test_detail_has_seasons_episodes_and_statuses(auth_client, shows):
    titan, _ = shows
    body = auth_client.get(f"/api/anime/{titan.pk}").json()
    assert [season["number"] for season in body["seasons"]] == [0, 1]
    assert body["seasons"][0]["is_specials"] is True
    statuses = {(s["number"], e["number"]): e["status"] for s in body["seasons"] for e in s["episodes"]}
    assert statuses == {
        (0, 1): "unavailable",
        (1, 1): "present",
        (1, 2): "missing",
        (1, 3): "upgradable",
        (1, 4): "ignored",
    }
    assert body["upgradable_count"] == 1
    assert body["language_preference_effective"] == ["de", "de-sub", "en-sub"]


def test_detail_unknown_id_is_json_404(auth_client, db):
    response = auth_client.get("/api/anime/999999")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_per_series_language_preference_changes_status(auth_client, shows):
    titan, _ = shows
    response = auth_client.patch(f"/api/anime/{titan.pk}", {"language_preference": ["en", "en-sub"]}, format="json")
    assert response.status_code == 200, response.content
    statuses = {(s["number"], e["number"]): e["status"] for s in response.json()["seasons"] for e in s["episodes"]}
    assert statuses[(0, 1)] == "missing"  # English Dub is wanted now
    assert statuses[(1, 3)] == "present"  # English Sub is the best this episode offers among wanted ones
    bad = auth_client.patch(f"/api/anime/{titan.pk}", {"language_preference": ["klingon"]}, format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid"


def test_rescan_starts_task_and_conflicts_while_running(
    auth_client, library, django_capture_on_commit_callbacks, sent_tasks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post("/api/anime/rescan")
    assert response.status_code == 202
    task_id = response.json()["task_id"]
    assert sent_tasks == [
        {"name": "library.scan", "args": [], "kwargs": {"full": False}, "queue": "maintenance", "task_id": task_id}
    ]

    with services.scan_lock("test"):
        busy = auth_client.post("/api/anime/rescan")
        assert auth_client.get("/api/anime/rescan").json()["running"] is True
    assert busy.status_code == 409
    assert busy.json()["error"]["code"] == "scan_running"


def test_scan_task_runs_and_skips_when_locked(library, make_series):
    from workers.library import scan_library_task

    make_series("Show", year=2020)
    (library / "Show (2020)").mkdir()
    (library / "Show (2020)" / "Show - S01E01.mkv").write_bytes(b"1")
    result = scan_library_task.apply(kwargs={"full": True}).get()
    assert result["status"] == "finished"
    assert result["episodes_found"] == 1
    with services.scan_lock("someone else"):
        assert scan_library_task.apply().get()["status"] == "skipped"


def test_download_validation_and_unknown_ids(auth_client, shows):
    titan, harbor = shows
    url = f"/api/anime/{titan.pk}/download"
    for body in [{}, {"episode_ids": [1], "all_missing": True}, {"all_missing": True, "priority": "URGENT"}]:
        response = auth_client.post(url, body, format="json")
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "invalid"
    other = Episode.objects.filter(season__series=harbor).first()
    response = auth_client.post(url, {"episode_ids": [other.pk, 987654]}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["details"] == {"unknown_episode_ids": [other.pk, 987654]}
    assert auth_client.post("/api/anime/424242/download", {"all_missing": True}, format="json").status_code == 404


def test_download_all_missing_goes_through_the_queue(auth_client, shows):
    titan, _ = shows
    response = auth_client.post(
        f"/api/anime/{titan.pk}/download", {"all_missing": True, "priority": "high"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    queued_episodes = sorted(item["episode_id"] for item in body["queued"])
    missing = sorted(
        Episode.objects.filter(season__series=titan, state=EpisodeState.QUEUED).values_list("id", flat=True)
    )
    assert queued_episodes == missing
    assert len(queued_episodes) == 2

    present = Episode.objects.get(season__series=titan, season__number=1, number=1)
    again = auth_client.post(f"/api/anime/{titan.pk}/download", {"episode_ids": [present.pk]}, format="json").json()
    assert again["queued"] == []
    assert again["skipped"][0]["episode_id"] == present.pk


# --- add and refresh (fake catalog site) ----------------------------------------------------------


@pytest.fixture
def add_view(owner):
    factory = APIRequestFactory()

    def post(body: dict):
        request = factory.post("/api/search/add", body, format="json")
        force_authenticate(request, user=owner)
        response = AddSeriesView.as_view()(request)
        response.render()
        return response

    return post


def test_add_series_from_fake_site(add_view, fake_catalog, library):
    response = add_view({"site": "aniworld", "slug": "moonlit-blade"})
    assert response.status_code == 201, response.content
    body = response.data
    assert (body["title"], body["year"], body["folder"]) == ("Moonlit Blade", 2019, "Moonlit Blade (2019)")
    assert body["alternative_titles"] == ["Gekkou no Tsurugi", "月光の剣"]
    assert body["imdb_id"] == "tt1234567"
    assert [season["number"] for season in body["seasons"]] == [0, 1, 2]
    first = body["seasons"][1]["episodes"][0]
    assert (first["title_de"], first["title_en"]) == ("Der erste Schnitt", "The First Cut")
    assert set(first["languages_available"]) == {"de", "de-sub", "en-sub"}
    assert (library / "Moonlit Blade (2019)").is_dir()
    assert body["cover"] == f"/api/anime/{body['id']}/cover"
    assert (library / "Moonlit Blade (2019)" / "poster.png").read_bytes().startswith(b"\x89PNG")

    again = add_view({"url": f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade"})
    assert again.status_code == 409
    assert again.data["error"]["details"] == {"series_id": body["id"]}


def test_cover_endpoint_serves_the_stored_image(auth_client, add_view, fake_catalog, library):
    series_id = add_view({"site": "aniworld", "slug": "spirit-and-steel"}).data["id"]
    response = auth_client.get(f"/api/anime/{series_id}/cover")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_add_by_url_and_sto_site(add_view, fake_catalog, library):
    response = add_view({"url": f"{fake_catalog.sto_url}/serie/stream/harbor-lights"})
    assert response.status_code == 201, response.content
    assert response.data["site"] == "sto"
    assert Series.objects.get(slug="harbor-lights").seasons.count() == 2


def test_add_hostile_title_stays_inside_library(add_view, fake_catalog, library):
    response = add_view({"site": "aniworld", "slug": "hostile-title"})
    assert response.status_code == 201, response.content
    series = Series.objects.get(slug="hostile-title")
    folder = (library / series.folder).resolve()
    assert folder.is_dir() and folder.parent == library.resolve()
    episode = Episode.objects.get(season__series=series, number=1)
    assert "\x00" not in episode.title_en
    target = services.episode_target_path(episode, "mkv")
    assert target.is_relative_to(library.resolve())
    assert all(len(part.encode()) <= 255 for part in target.relative_to(library.resolve()).parts)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "invalid"),
        ({"site": "aniworld"}, 400, "invalid"),
        ({"site": "aniworld", "slug": "../etc"}, 400, "invalid"),
        ({"site": "nope", "slug": "x"}, 400, "invalid"),
        ({"url": "https://example.com/some/page"}, 400, "invalid"),
        ({"site": "aniworld", "slug": "no-such-series"}, 404, "not_found_on_site"),
    ],
)
def test_add_errors(add_view, fake_catalog, library, body, status, code):
    response = add_view(body)
    assert response.status_code == status, response.data
    assert response.data["error"]["code"] == code
    assert not Series.objects.exists()


def test_add_while_site_blocks_is_503(add_view, fake_catalog, library):
    fake_catalog.set_scenario(block_prefix="")
    response = add_view({"site": "aniworld", "slug": "moonlit-blade"})
    assert response.status_code == 503
    assert response.data["error"]["code"] == "site_blocking"
    assert "retry_at" in response.data["error"]["details"]


def test_refresh_updates_episodes_from_fake_site(auth_client, fake_catalog, library, make_series, make_episode):
    series = make_series("Moonlit Blade", slug="moonlit-blade", year=None)
    stale = make_episode(series, 1, 1, title_de="alt", state="present", file_path="x.mkv", file_language="de-sub")
    response = auth_client.post(f"/api/anime/{series.pk}/refresh")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["refreshed"] is True
    assert body["episodes_created"] == 6 and body["episodes_updated"] == 1
    assert body["series"]["year"] == 2019
    stale.refresh_from_db()
    assert (stale.title_de, stale.state, stale.file_path) == ("Der erste Schnitt", "present", "x.mkv")
    upgradable = [e for s in body["series"]["seasons"] for e in s["episodes"] if e["status"] == "upgradable"]
    assert [(e["number"], e["best_language"]) for e in upgradable] == [(1, "de")]


def test_refresh_layout_change_is_502(auth_client, fake_catalog, library, make_series):
    series = make_series("Moonlit Blade", slug="moonlit-blade")
    fake_catalog.set_scenario(broken_layout=True)
    response = auth_client.post(f"/api/anime/{series.pk}/refresh")
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "catalog_layout_changed"
    assert "layout" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (SiteBlocking("aniworld.to is blocking us", datetime(2030, 1, 1, tzinfo=UTC)), 503, "site_blocking"),
        (LayoutChanged("site layout changed: no title"), 502, "catalog_layout_changed"),
    ],
)
def test_refresh_catalog_errors_are_readable(auth_client, library, make_series, monkeypatch, error, status, code):
    series = make_series("X")

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(catalog, "fetch_series", fail)
    response = auth_client.post(f"/api/anime/{series.pk}/refresh")
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


def test_languages_enum_matches_stored_values():
    assert {language.value for language in Language} >= {"de", "de-sub", "en-sub"}


def test_scan_task_publishes_progress_frames(library, make_series, monkeypatch):
    from apps.realtime import publish as realtime
    from workers.library import scan_library_task

    frames = []
    monkeypatch.setattr(realtime, "publish", lambda event_type, data, rooms=None: frames.append((event_type, data)))
    make_series("Show", year=2020)
    (library / "Show (2020)").mkdir()
    (library / "Show (2020)" / "Show - S01E01.mkv").write_bytes(b"1")
    result = scan_library_task.apply(task_id="scan-xyz").get()
    assert result["status"] == "finished"
    assert {event_type for event_type, _ in frames} == {"library_scan_progress"}
    last = frames[-1][1]
    assert (last["scan_id"], last["finished"], last["phase"], last["episodes_found"]) == (
        "scan-xyz",
        True,
        "finished",
        1,
    )
    assert last["done"] == 2  # root and the series folder
