"""manage.py backup / restore: a round trip, refusal of newer files, all or nothing."""

from __future__ import annotations

import json
import stat

import pytest
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from apps.configuration import backup, schedules, selectors, services
from apps.configuration.models import Settings, SettingsChange
from apps.library.models import Episode, Season, Series
from apps.queue.models import DownloadItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def populated():
    services.update_settings(
        {
            "library_path": "/srv/anime",
            "max_concurrent_downloads": 5,
            "jellyfin_url": "http://jf.local",
            "jellyfin_api_key": "jf-secret",
            "check_new_episodes_hours": 4,
        },
        actor="owner",
    )
    series = Series.objects.create(site="aniworld", slug="frieren", title="Frieren", year=2023)
    season = Season.objects.create(series=series, number=1)
    first = Episode.objects.create(season=season, number=1, title_en="The Journey's End")
    Episode.objects.create(season=season, number=2, title_en="It Didn't Have to Be Magic")
    DownloadItem.objects.create(episode=first, site="aniworld", label="Frieren S01E01")
    return series


def test_backup_then_restore_brings_everything_back(populated, tmp_path, capsys):
    target = tmp_path / "aniworld-backup.json"
    call_command("backup", str(target))
    assert "written to" in capsys.readouterr().out
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # it holds secrets
    data = json.loads(target.read_text())
    assert data["format"] == "aniworld-backup"
    assert data["schema_version"] == backup.BACKUP_SCHEMA_VERSION
    assert "0001_initial" in data["migrations"]["configuration"]
    models_in_file = {obj["model"] for obj in data["objects"]}
    assert {
        "configuration.settings",
        "configuration.settingschange",
        "library.series",
        "library.episode",
        "download_queue.downloaditem",
    } <= models_in_file

    # Change everything after the backup.
    services.update_settings({"max_concurrent_downloads": 1, "check_new_episodes_hours": 1}, actor="owner")
    Series.objects.all().delete()
    Series.objects.create(site="sto", slug="other", title="Other")
    revision_before_restore = selectors.get_settings().revision

    call_command("restore", str(target))
    assert "Restored" in capsys.readouterr().out
    restored = Settings.objects.get()
    assert restored.max_concurrent_downloads == 5
    assert restored.library_path == "/srv/anime"
    assert restored.jellyfin_api_key == "jf-secret"
    assert restored.revision > revision_before_restore  # every process reloads
    assert selectors.max_concurrent_downloads() == 5
    assert list(Series.objects.values_list("slug", flat=True)) == ["frieren"]
    assert Episode.objects.filter(season__series__slug="frieren").count() == 2
    assert list(DownloadItem.objects.values_list("label", flat=True)) == ["Frieren S01E01"]
    assert SettingsChange.objects.filter(field="(restore)").exists()
    check = PeriodicTask.objects.get(name=schedules.CHECK_NEW_EPISODES)
    assert check.interval.every == 4  # schedules follow the restored settings

    # New rows get fresh ids after a restore (sequences were reset).
    Series.objects.create(site="sto", slug="after-restore", title="After")


def _write(tmp_path, data) -> str:
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_restore_refuses_a_newer_backup_schema(populated, tmp_path):
    data = backup.create_backup()
    data["schema_version"] = backup.BACKUP_SCHEMA_VERSION + 1
    services.update_settings({"max_concurrent_downloads": 1}, actor="owner")
    with pytest.raises(CommandError, match="written by a newer Aniworld"):
        call_command("restore", _write(tmp_path, data))
    assert Settings.objects.get().max_concurrent_downloads == 1


def test_restore_refuses_migrations_it_does_not_have(populated, tmp_path):
    data = backup.create_backup()
    data["migrations"]["configuration"].append("0099_from_the_future")
    with pytest.raises(CommandError, match=r"0099_from_the_future.*do not exist here"):
        call_command("restore", _write(tmp_path, data))


def test_restore_refuses_files_that_are_not_backups(tmp_path):
    with pytest.raises(CommandError, match="not an Aniworld backup"):
        call_command("restore", _write(tmp_path, {"hello": "world"}))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(CommandError, match="not a readable Aniworld backup"):
        call_command("restore", str(broken))
    with pytest.raises(CommandError, match="does not exist"):
        call_command("restore", str(tmp_path / "missing.json"))


def test_a_broken_record_changes_nothing(populated, tmp_path):
    data = backup.create_backup()
    episode = next(obj for obj in data["objects"] if obj["model"] == "library.episode")
    episode["fields"]["season"] = 999_999  # points nowhere
    with pytest.raises(CommandError, match="could not be loaded"):
        call_command("restore", _write(tmp_path, data))
    assert Series.objects.filter(slug="frieren").exists()
    assert Episode.objects.count() == 2
    assert Settings.objects.get().max_concurrent_downloads == 5
