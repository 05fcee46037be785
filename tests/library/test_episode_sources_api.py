"""``GET /api/anime/<id>/episodes/<episode_id>/sources`` against the fake site: what the site offers per language,
which hosters have a resolver, what the queue's attempts gave; cached, blocks respected, errors in the JSON shape."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.catalog import selectors as catalog_selectors
from apps.catalog import services as catalog_services
from apps.catalog.types import EpisodeInfo, EpisodeSources, HosterLink, Language, Site
from apps.library import services as library_services
from apps.library.models import Episode
from apps.queue.models import DownloadItem, ItemState
from tests.fakesite.catalog import HOSTER_NAMES

pytestmark = pytest.mark.django_db


def _episode(series, season: int, number: int) -> Episode:
    return Episode.objects.get(season__series=series, season__number=season, number=number)


def _url(series, episode) -> str:
    return f"/api/anime/{series.pk}/episodes/{episode.pk}/sources"


@pytest.fixture
def moonlit(fake_catalog, library):
    series = library_services.add_series("aniworld", "moonlit-blade")
    fake_catalog.reset()
    return series


def test_languages_hosters_and_resolver_support(auth_client, fake_catalog, moonlit):
    episode = _episode(moonlit, 1, 1)
    response = auth_client.get(_url(moonlit, episode))
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["series_id"], body["episode_id"], body["season"], body["number"]) == (moonlit.pk, episode.pk, 1, 1)
    assert body["site"] == "aniworld" and body["cached"] is False
    assert body["url"] == f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade/staffel-1/episode-1"
    assert (body["title_de"], body["title_en"]) == ("Der erste Schnitt", "The First Cut")
    assert [(lang["language"], lang["label"]) for lang in body["languages"]] == [
        ("de", "German Dub"),
        ("de-sub", "German Sub"),
        ("en-sub", "English Sub"),
    ]
    for language in body["languages"]:
        assert [h["hoster"] for h in language["hosters"]] == list(HOSTER_NAMES)  # each once, in page order
        assert all(h["supported"] is True and h["last_attempts"] == [] for h in language["hosters"])

    again = auth_client.get(_url(moonlit, episode))
    assert again.json()["cached"] is True and again.json()["languages"] == body["languages"]
    assert fake_catalog.requests_to("/aw/") == 1  # the second answer came from the cache


def test_last_attempts_per_source_come_from_the_queue(auth_client, fake_catalog, moonlit):
    episode = _episode(moonlit, 1, 1)
    now = timezone.now()
    failed = DownloadItem.objects.create(
        episode=episode,
        site="aniworld",
        state=ItemState.FAILED,
        hoster="VOE",
        language_used="de",
        tried_sources=["Vidoza:de", "VOE:de"],
        last_error="VOE: media answered HTTP 403",
        finished_at=now - timedelta(hours=1),
    )
    done = DownloadItem.objects.create(
        episode=episode,
        site="aniworld",
        state=ItemState.COMPLETED,
        hoster="Vidoza",
        language_used="de",
        finished_at=now,
    )
    DownloadItem.objects.filter(pk=failed.pk).update(updated_at=now - timedelta(hours=1))

    body = auth_client.get(_url(moonlit, episode)).json()
    german = {h["hoster"]: h for h in body["languages"][0]["hosters"]}
    assert [(a["item_id"], a["result"]) for a in german["Vidoza"]["last_attempts"]] == [
        (done.pk, "completed"),
        (failed.pk, "failed"),
    ]
    voe = german["VOE"]["last_attempts"]
    assert [(a["item_id"], a["result"], a["error"]) for a in voe] == [
        (failed.pk, "failed", "VOE: media answered HTTP 403")
    ]
    assert german["Doodstream"]["last_attempts"] == []
    german_sub = {h["hoster"]: h for h in body["languages"][1]["hosters"]}
    assert german_sub["VOE"]["last_attempts"] == []  # same hoster, other language: another source


def test_sto_episode_in_the_current_layout(auth_client, fake_catalog, library):
    series = library_services.add_series("sto", "harbor-lights")
    body = auth_client.get(_url(series, _episode(series, 1, 3))).json()
    assert [lang["language"] for lang in body["languages"]] == ["en", "de-sub"]  # svg-flag-english-german
    assert [h["hoster"] for h in body["languages"][1]["hosters"]] == list(HOSTER_NAMES)


def test_unsupported_hosters_are_named(monkeypatch, fake_catalog, db):
    episode = EpisodeInfo(Site.ANIWORLD, "x", 1, 1, "https://aniworld.to/anime/stream/x/staffel-1/episode-1")
    links = (
        HosterLink("Streamzz", Language.GERMAN_DUB, "https://aniworld.to/redirect/1"),
        HosterLink("VOE", Language.GERMAN_DUB, "https://aniworld.to/redirect/2"),
        HosterLink("VOE", Language.GERMAN_DUB, "https://aniworld.to/redirect/3"),
    )
    monkeypatch.setattr(
        catalog_services,
        "fetch_episode_sources",
        lambda *args: EpisodeSources(episode, (Language.GERMAN_DUB,), links),
    )
    data = catalog_selectors.episode_sources(Site.ANIWORLD, "x", 1, 1)
    assert data["languages"][0]["hosters"] == [
        {"hoster": "Streamzz", "supported": False},
        {"hoster": "VOE", "supported": True},
    ]


def test_unknown_ids_are_404_in_the_error_shape(auth_client, moonlit, make_series, make_episode):
    other = make_episode(make_series("Other"), 1, 1)
    episode = _episode(moonlit, 1, 1)
    for url in (
        f"/api/anime/999999/episodes/{episode.pk}/sources",
        f"/api/anime/{moonlit.pk}/episodes/999999/sources",
        f"/api/anime/{moonlit.pk}/episodes/{other.pk}/sources",  # an episode of another series
    ):
        response = auth_client.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"


def test_episode_gone_from_the_site_is_404(auth_client, fake_catalog, moonlit, make_episode):
    ghost = make_episode(moonlit, 1, 99)
    response = auth_client.get(_url(moonlit, ghost))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found_on_site"


def test_a_known_block_answers_503_with_retry_after_and_sends_nothing(auth_client, fake_catalog, moonlit):
    episode = _episode(moonlit, 1, 2)
    fake_catalog.set_scenario(block_prefix="/aw/")
    first = auth_client.get(_url(moonlit, episode))
    assert first.status_code == 503 and first.json()["error"]["code"] == "site_blocking"
    assert int(first["Retry-After"]) > 60
    fake_catalog.reset()
    second = auth_client.get(_url(moonlit, episode))
    assert second.status_code == 503 and int(second["Retry-After"]) > 60
    assert "nothing was sent" in second.json()["error"]["message"]
    assert fake_catalog.stats()["requests"] == {}
    checked = auth_client.get(_url(moonlit, episode), {"check_now": "true"})
    assert checked.status_code == 200 and checked.json()["cached"] is False


def test_needs_authentication_and_is_documented(api_client, auth_client, moonlit):
    episode = _episode(moonlit, 1, 1)
    assert api_client.get(_url(moonlit, episode)).status_code == 401
    schema = auth_client.get("/api/schema", {"format": "json"})
    assert schema.status_code == 200, schema.content[:200]
    operation = schema.json()["paths"]["/api/anime/{id}/episodes/{episode_pk}/sources"]["get"]
    assert set(operation["responses"]) >= {"200", "404", "503"}
