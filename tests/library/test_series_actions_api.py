"""Series page actions: ignore/unignore episodes, delete a file, and why a missing episode failed."""

from __future__ import annotations

import pytest

from apps.library.models import Episode, EpisodeState
from apps.queue.models import DownloadItem

pytestmark = pytest.mark.django_db


def test_ignore_and_unignore(auth_client, library, make_series, make_episode):
    series = make_series()
    first, second = make_episode(series, number=1), make_episode(series, number=2)
    other = make_episode(make_series("Other"), number=1)
    response = auth_client.post(
        f"/api/anime/{series.pk}/episodes/ignore",
        {"episode_ids": [first.pk, second.pk], "ignored": True},
        format="json",
    )
    assert response.status_code == 200 and response.json() == {"changed": 2}
    assert set(Episode.objects.filter(pk__in=[first.pk, second.pk]).values_list("state", flat=True)) == {"ignored"}
    auth_client.post(
        f"/api/anime/{series.pk}/episodes/ignore", {"episode_ids": [first.pk], "ignored": False}, format="json"
    )
    assert Episode.objects.get(pk=first.pk).state == EpisodeState.MISSING
    refused = auth_client.post(
        f"/api/anime/{series.pk}/episodes/ignore", {"episode_ids": [other.pk], "ignored": True}, format="json"
    )
    assert refused.status_code == 404
    assert Episode.objects.get(pk=other.pk).state == EpisodeState.MISSING


def test_delete_a_file(auth_client, library, make_series, make_episode):
    series = make_series()
    (library / "Test Anime").mkdir()
    (library / "Test Anime" / "e1.mkv").write_bytes(b"x" * 10)
    episode = make_episode(series, file_path="Test Anime/e1.mkv", file_size=10, file_language="de", state="present")
    response = auth_client.delete(f"/api/anime/{series.pk}/episodes/{episode.pk}/file")
    assert response.status_code == 200, response.content
    assert response.json() == {"episode_id": episode.pk, "state": "missing", "deleted": "Test Anime/e1.mkv"}
    assert not (library / "Test Anime" / "e1.mkv").exists()
    episode.refresh_from_db()
    assert (episode.file_path, episode.file_size, episode.file_language) == ("", None, None)
    assert auth_client.delete(f"/api/anime/{series.pk}/episodes/{episode.pk}/file").status_code == 409


def test_a_file_outside_the_library_is_never_deleted(auth_client, library, tmp_path, make_series, make_episode):
    outside = tmp_path / "precious.mkv"
    outside.write_bytes(b"keep")
    series = make_series()
    episode = make_episode(series, file_path="../precious.mkv", file_size=4, state="present")
    assert auth_client.delete(f"/api/anime/{series.pk}/episodes/{episode.pk}/file").status_code == 400
    assert outside.exists()


def test_a_missing_episode_says_why_its_download_failed(auth_client, library, make_series, make_episode):
    series = make_series()
    failed = make_episode(series, number=1)
    fine = make_episode(series, number=2)
    DownloadItem.objects.create(episode=failed, site="aniworld", state="failed", last_error="no hoster worked: VOE 404")
    seasons = auth_client.get(f"/api/anime/{series.pk}").json()["seasons"]
    episodes = {episode["id"]: episode for episode in seasons[0]["episodes"]}
    assert episodes[failed.pk]["last_failure"]["error"] == "no hoster worked: VOE 404"
    assert episodes[fine.pk]["last_failure"] is None
