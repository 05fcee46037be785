"""Admin pages and actions for the library, through the Django test client as the owner."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.library import services
from apps.library.models import Episode, EpisodeState


@pytest.fixture
def admin_client(owner) -> Client:
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def show(library, make_series, make_episode):
    series = make_series("Moonlit Blade", slug="moonlit-blade", year=2019, cover="Moonlit Blade (2019)/poster.png")
    make_episode(series, 1, 1, languages_available=["de"])
    make_episode(series, 1, 2, languages_available=["de-sub"])
    make_episode(series, 1, 3, state="present", file_path="x.mkv")
    return series


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def action(client: Client, model: str, name: str, ids: list[int]):
    return client.post(
        f"/admin/library/{model}/", {"action": name, "_selected_action": [str(i) for i in ids]}, follow=True
    )


def test_pages_render_with_search_filters_and_thumbnails(admin_client, show):
    listing = admin_client.get("/admin/library/series/?q=moonlit&site__exact=aniworld&monitored__exact=1")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "Moonlit Blade" in html
    assert f'src="/api/anime/{show.pk}/cover"' in html
    detail = admin_client.get(f"/admin/library/series/{show.pk}/change/")
    assert detail.status_code == 200
    season = show.seasons.get(number=1)
    season_page = admin_client.get(f"/admin/library/season/{season.pk}/change/")
    assert season_page.status_code == 200
    assert "episodes-TOTAL_FORMS" in season_page.content.decode()  # the episode inline
    for url in [
        "/admin/library/episode/?state__exact=missing",
        "/admin/library/unmatchedfile/",
        "/admin/library/scanrun/",
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_admin_needs_login(client, owner):
    response = client.get("/admin/library/series/")
    assert response.status_code == 302


def test_download_missing_action_queues_missing_episodes(admin_client, show):
    response = action(admin_client, "series", "download_missing", [show.pk])
    assert "Queued 2 episode(s)." in messages_of(response)
    states = dict(Episode.objects.filter(season__series=show).values_list("number", "state"))
    assert states == {1: "queued", 2: "queued", 3: "present"}


def test_mark_ignored_and_back(admin_client, show):
    missing = Episode.objects.get(season__series=show, number=1)
    present = Episode.objects.get(season__series=show, number=3)
    response = action(admin_client, "episode", "mark_ignored", [missing.pk])
    assert "Marked 1 episode(s) ignored." in messages_of(response)
    missing.refresh_from_db()
    assert missing.state == EpisodeState.IGNORED
    action(admin_client, "episode", "unignore", [missing.pk, present.pk])
    missing.refresh_from_db()
    assert missing.state == EpisodeState.MISSING

    action(admin_client, "series", "ignore_missing", [show.pk])
    assert Episode.objects.filter(season__series=show, state=EpisodeState.IGNORED).count() == 2


def test_rescan_action_starts_scan_or_reports_running(
    admin_client, show, sent_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = action(admin_client, "series", "rescan_library", [show.pk])
    assert any(text.startswith("Library scan started") for text in messages_of(response))
    assert [task["name"] for task in sent_tasks] == ["library.scan"]
    with services.scan_lock("test"):
        response = action(admin_client, "series", "rescan_library", [show.pk])
    assert "A library scan is already running." in messages_of(response)


def test_refresh_action_against_fake_site(admin_client, show, fake_catalog):
    response = action(admin_client, "series", "refresh_from_site", [show.pk])
    assert "Refreshed 1 series." in messages_of(response)
    assert Episode.objects.filter(season__series=show).count() == 7


def test_refresh_action_reports_catalog_errors(admin_client, show, fake_catalog):
    fake_catalog.set_scenario(broken_layout=True)
    response = action(admin_client, "series", "refresh_from_site", [show.pk])
    (message,) = messages_of(response)
    assert message.startswith("Moonlit Blade: ") and "layout" in message


def test_sizes_are_human_readable_and_celery_tables_are_hidden(admin_client, show):
    episode = Episode.objects.get(file_path="x.mkv")
    Episode.objects.filter(pk=episode.pk).update(file_size=1_500_000_000)
    listing = admin_client.get("/admin/library/episode/").content.decode()
    assert "1.4\xa0GB" in listing and "1500000000" not in listing
    index = admin_client.get("/admin/").content.decode()
    assert "django_celery_beat" not in index and "Periodic tasks" not in index
    assert admin_client.get("/admin/django_celery_beat/periodictask/").status_code == 404
