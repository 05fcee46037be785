"""``manage.py download``: URL, season and range parsing, clear usage errors, queueing through the queue services.

The live run with ``--wait`` (a real download by the stack's worker) is in tests/queue/test_download_command_live.py.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.catalog import services as catalog_services
from apps.catalog.types import Site
from apps.library import selectors as library_selectors
from apps.library.models import Series
from apps.queue.models import DownloadItem, ItemState, Priority

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("download", *args, stdout=out)
    return out.getvalue()


def fails(*args: str) -> CommandError:
    with pytest.raises(CommandError) as caught:
        run(*args)
    return caught.value


def queued() -> list[tuple[str, int, int, str | None, int]]:
    return [
        (item.episode.season.series.slug, item.episode.season.number, item.episode.number, item.language, item.priority)
        for item in DownloadItem.objects.select_related("episode__season__series").order_by("position")
    ]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://aniworld.to/anime/stream/moonlit-blade", (Site.ANIWORLD, "moonlit-blade", None, None)),
        ("https://aniworld.to/anime/stream/moonlit-blade/staffel-2", (Site.ANIWORLD, "moonlit-blade", 2, None)),
        ("https://aniworld.to/anime/stream/moonlit-blade/filme/film-1", (Site.ANIWORLD, "moonlit-blade", 0, 1)),
        ("https://serienstream.to/serie/from/staffel-1/episode-3", (Site.STO, "from", 1, 3)),
        ("https://s.to/serie/stream/from/staffel-4/", (Site.STO, "from", 4, None)),
    ],
)
def test_catalog_urls(url, expected, monkeypatch):
    monkeypatch.delenv("ANIWORLD_ANIWORLD_URL", raising=False)
    monkeypatch.delenv("ANIWORLD_STO_URL", raising=False)
    target = catalog_services.parse_catalog_url(url)
    assert (target.site, target.slug, target.season, target.episode) == expected


@pytest.mark.parametrize(
    ("text", "numbers"), [("1-5,8", [1, 2, 3, 4, 5, 8]), ("3", [3]), (" 2 - 3 , 2 ", [2, 3]), ("8,1", [8, 1])]
)
def test_episode_ranges(text, numbers):
    assert library_selectors.parse_episode_numbers(text) == numbers


@pytest.mark.parametrize("text", ["", "5-1", "0", "a", "1-", "1,,2", "1-99999"])
def test_bad_episode_ranges(text):
    with pytest.raises(ValueError):
        library_selectors.parse_episode_numbers(text)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not a url"], "is not a URL"),
        (["https://example.com/anime/stream/x"], "example.com is not a catalog site"),
        (["{aniworld}/impressum"], "is not a series, season or episode address"),
        (["{aniworld}/anime/stream/moonlit-blade", "--episodes", "1-3"], "--episodes needs a season"),
        (["{aniworld}/anime/stream/moonlit-blade/staffel-1", "--episodes", "3-1"], "--episodes: '3-1'"),
        (["{aniworld}/anime/stream/moonlit-blade/staffel-1/episode-1", "--episodes", "2"], "names one episode"),
        (["{aniworld}/anime/stream/moonlit-blade", "--season", "-1"], "--season is 0"),
    ],
)
def test_usage_errors_exit_2_before_anything_is_sent(args, message, fake_catalog, library):
    error = fails(*(arg.format(aniworld=fake_catalog.aniworld_url) for arg in args))
    assert message in str(error) and error.returncode == 2
    assert fake_catalog.stats()["requests"] == {} and not Series.objects.exists()


def test_unknown_language_is_refused(fake_catalog, library):
    error = fails(f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade/staffel-1", "--language", "klingon")
    assert "invalid choice: 'klingon'" in str(error) and "de-sub" in str(error)


def test_episode_numbers_the_season_lacks(fake_catalog, library):
    error = fails(f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade/staffel-2", "--episodes", "1-4")
    assert "season 2 has no episode 3, 4" in str(error) and error.returncode == 2
    assert not DownloadItem.objects.exists()


def test_adds_the_series_and_queues_a_range_with_language_and_priority(fake_catalog, library):
    out = run(
        f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade",
        "--season",
        "1",
        "--episodes",
        "1,3",
        "--language",
        "de-sub",
        "--priority",
        "high",
    )
    assert "Added: Moonlit Blade (aniworld.to)" in out and "Queued: Moonlit Blade" in out
    assert queued() == [
        ("moonlit-blade", 1, 1, "de-sub", Priority.HIGH),
        ("moonlit-blade", 1, 3, "de-sub", Priority.HIGH),
    ]

    again = run(f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade/staffel-1/episode-1")
    assert "In the library: Moonlit Blade" in again and "already in the queue" in again
    assert len(queued()) == 2  # the same service as the API: no duplicate


def test_a_whole_season_and_an_sto_episode(fake_catalog, library):
    run(f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade/staffel-2")
    assert [(season, number) for _, season, number, _, _ in queued()] == [(2, 1), (2, 2)]
    run(f"{fake_catalog.sto_url}/serie/harbor-lights/staffel-1/episode-3", "--priority", "low")
    assert queued()[-1] == ("harbor-lights", 1, 3, None, Priority.LOW)


def test_wait_shows_progress_and_exits_1_when_one_failed(fake_catalog, library, monkeypatch):
    """The watch loop polls the database; here a fake "worker" finishes the items between two polls."""
    from apps.queue import selectors
    from apps.queue.management.commands import download

    polls = []
    original = selectors.items_data

    def items_data(item_ids):
        polls.append(item_ids)
        if len(polls) == 3:  # a worker elsewhere finishes both
            first, second = sorted(item_ids)
            DownloadItem.objects.filter(pk=first).update(
                state=ItemState.COMPLETED, file_path="Moonlit Blade (2019)/Season 02/x.mkv", bytes_done=9, bytes_total=9
            )
            DownloadItem.objects.filter(pk=second).update(state=ItemState.FAILED, last_error="Vidoza: the file is gone")
        return original(item_ids)

    monkeypatch.setattr(selectors, "items_data", items_data)
    monkeypatch.setattr(download, "POLL_SECONDS", 0.01)
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command(
            "download", f"{fake_catalog.aniworld_url}/anime/stream/moonlit-blade/staffel-2", "--wait", stdout=out
        )
    assert caught.value.returncode == 1 and len(polls) == 3
    text = out.getvalue()
    assert "S02E01" in text and "S02E02" in text, text
    assert "-> Moonlit Blade (2019)/Season 02/x.mkv" in text
    assert "Vidoza: the file is gone" in text and "1 completed, 1 failed" in text
