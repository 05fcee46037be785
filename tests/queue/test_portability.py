"""`manage.py queue export|import`, including the original AniWorld-Downloader download_queue.json."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from apps.catalog.types import EpisodeInfo, EpisodeSources, HosterLink, Language, Site
from apps.queue import services
from apps.queue.models import DownloadItem, ItemState
from workers import download

pytestmark = pytest.mark.django_db(transaction=True)

ORIGINAL_QUEUE = {
    "pending": [
        {
            "id": "5f0c-1",
            "serie_id": "test-show",
            "serie_folder": "Test Show (2020)",
            "serie_name": "Test Show",
            "episode": {"season": 1, "episode": 1, "title": None},
            "status": "pending",
            "priority": "HIGH",
            "added_at": "2025-10-22T10:00:00Z",
            "retry_count": 0,
        },
        {"serie_id": "unknown-show", "episode": {"season": 1, "episode": 1}, "status": "pending"},
        {"serie_id": "test-show", "episode": {"season": 1, "episode": 2}, "language": "German Sub"},
    ],
    "active": [{"url": "https://aniworld.to/anime/stream/test-show/staffel-1/episode-3", "status": "downloading"}],
    "failed": [
        {
            "serie_id": "test-show",
            "episode": {"season": 1, "episode": 4},
            "status": "failed",
            "error": "Provider timed out",
            "retry_count": 3,
        },
        {"episode": {"season": 1, "episode": 5}},
    ],
}


def test_import_of_the_original_download_queue_json(make_episodes, library, sent, tmp_path):
    episodes = make_episodes(4)
    services.pause_queue()
    path = tmp_path / "download_queue.json"
    path.write_text(json.dumps(ORIGINAL_QUEUE))

    call_command("queue", "import", str(path))

    items = {item.episode_id: item for item in DownloadItem.objects.all()}
    assert set(items) == {episode.pk for episode in episodes}
    assert items[episodes[0].pk].priority == 0 and items[episodes[0].pk].state == ItemState.PENDING
    assert items[episodes[1].pk].language == Language.GERMAN_SUB.value
    assert items[episodes[2].pk].state == ItemState.PENDING
    failed = items[episodes[3].pk]
    assert failed.state == ItemState.FAILED and failed.attempts == 3 and failed.last_error == "Provider timed out"
    result = services.import_queue(ORIGINAL_QUEUE)
    reasons = [entry["reason"] for entry in result["skipped"]]
    assert any("aniworld:unknown-show S01E01 is not in the library" in reason for reason in reasons)
    assert any("no series" in reason for reason in reasons)
    assert sum("already in the queue" in reason for reason in reasons) == 3


def test_export_then_import_restores_the_queue(make_episodes, library, sent, tmp_path, capsys):
    episodes = make_episodes(3)
    services.pause_queue()
    services.enqueue_episodes([episodes[0].pk], "low", "de-sub")
    services.enqueue_episodes([episodes[1].pk, episodes[2].pk], "high")
    out = tmp_path / "queue.json"
    call_command("queue", "export", str(out))
    exported = json.loads(out.read_text())
    assert exported["format"] == "aniworld-queue"
    assert [(item["episode"], item["priority"]) for item in exported["items"]] == [(2, "high"), (3, "high"), (1, "low")]

    DownloadItem.objects.all().delete()
    call_command("queue", "import", str(out))
    restored = list(DownloadItem.objects.order_by("priority", "position"))
    assert [(item.episode_id, item.priority, item.language) for item in restored] == [
        (episodes[1].pk, 0, None),
        (episodes[2].pk, 0, None),
        (episodes[0].pk, 2, "de-sub"),
    ]
    assert "3 of 3 entries imported" in capsys.readouterr().out


def test_import_rejects_files_that_are_not_queues(tmp_path, library):
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(CommandError, match="not valid JSON"):
        call_command("queue", "import", str(bad))
    bad.write_text('"a string"')
    with pytest.raises(CommandError, match="JSON object or list"):
        call_command("queue", "import", str(bad))


def _sources(*links: tuple[str, Language]) -> EpisodeSources:
    episode = EpisodeInfo(site=Site.ANIWORLD, slug="x", season=1, number=1, url="https://aniworld.to/x")
    hosters = tuple(
        HosterLink(hoster=name, language=language, redirect_url="https://aniworld.to/r") for name, language in links
    )
    return EpisodeSources(episode=episode, languages=tuple({language for _, language in links}), hosters=hosters)


def test_source_plan_follows_preferences_and_moves_on_after_each_attempt():
    de, de_sub, en_sub = Language.GERMAN_DUB, Language.GERMAN_SUB, Language.ENGLISH_SUB
    sources = _sources(("Vidoza", de_sub), ("VOE", de_sub), ("Vidoza", de), ("VOE", de), ("VOE", en_sub))
    plan = download.plan_sources(
        sources, wanted_language=None, languages=["de", "de-sub"], hosters=["VOE", "Vidoza"], tried=[]
    )
    assert [download.source_key(link) for link in plan] == ["VOE:de", "Vidoza:de", "VOE:de-sub", "Vidoza:de-sub"]
    plan = download.plan_sources(
        sources, wanted_language=None, languages=["de", "de-sub"], hosters=["VOE", "Vidoza"], tried=["VOE:de"]
    )
    assert download.source_key(plan[0]) == "Vidoza:de" and download.source_key(plan[-1]) == "VOE:de"
    only = download.plan_sources(sources, wanted_language="en-sub", languages=["de"], hosters=[], tried=[])
    assert [download.source_key(link) for link in only] == ["VOE:en-sub"]
    assert download.no_source_reason(sources, "en", ["de"]).startswith("No source in an allowed language")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"url": "https://aniworld.to/anime/stream/test-show/staffel-2/episode-3"}, ("aniworld", "test-show", 2, 3)),
        ({"url": "https://aniworld.to/anime/stream/test-show/filme/film-1"}, ("aniworld", "test-show", 0, 1)),
        ({"link": "https://s.to/serie/stream/harbor-lights/staffel-1/episode-4"}, ("sto", "harbor-lights", 1, 4)),
        (
            {"serie_url": "https://serienstream.to/serie/harbor-lights", "season": 1, "episode": 2},
            ("sto", "harbor-lights", 1, 2),
        ),
        ({"slug": "test-show", "site": "s.to", "episode": {"season": 1, "episode": 5}}, ("sto", "test-show", 1, 5)),
    ],
)
def test_import_entries_read_catalog_urls(raw, expected):
    entry = services.parse_import_entry("pending", raw)
    assert (entry.site, entry.slug, entry.season, entry.episode) == expected


def test_an_import_entry_without_a_series_is_refused():
    with pytest.raises(ValueError, match="no series"):
        services.parse_import_entry("pending", {"url": "https://example.org/watch/1", "season": 1, "episode": 1})
