"""The seeding `make demo` runs (tests.fakesite.demo.seed_demo_library), on a fresh and on existing demo data."""

from __future__ import annotations

import pytest

from apps.accounts import services as accounts
from apps.library.models import Episode, EpisodeState, Series
from tests.fakesite import demo


def test_demo_seeding_runs_and_runs_again(fake_catalog, library):
    sample = fake_catalog.media().mp4
    for _run in range(2):  # `make demo` a second time on the same data
        demo.seed_demo_library(demo.DEMO_PASSWORD, sample)
        assert accounts.is_setup_complete()
        assert sorted(Series.objects.values_list("site", "slug")) == sorted(demo.DEMO_SERIES)
        first = Episode.objects.get(season__series__slug="moonlit-blade", season__number=1, number=1)
        assert first.state == EpisodeState.PRESENT
        assert Episode.objects.filter(state=EpisodeState.PRESENT).count() == 1
    assert len(list(library.rglob("*.mp4"))) == 1


def test_demo_uses_only_its_own_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ANIWORLD_DATA_DIR", str(tmp_path / "fresh"))
    assert demo.demo_data_dir() == (tmp_path / "fresh").resolve()
    demo.claim_data_dir(demo.demo_data_dir())
    demo.claim_data_dir(demo.demo_data_dir())  # its own folder again
    real = tmp_path / "real"
    real.mkdir()
    (real / "aniworld.sqlite3").write_bytes(b"owner's data")
    with pytest.raises(demo.NotADemoFolder):
        demo.claim_data_dir(real)
    monkeypatch.setenv("ANIWORLD_DATA_DIR", str(real))
    demo.reset()
    assert (real / "aniworld.sqlite3").exists()


def test_demo_prints_the_port_it_serves(monkeypatch):
    monkeypatch.setenv("ANIWORLD_PORT", "8123")
    monkeypatch.delenv("ANIWORLD_HOST", raising=False)
    assert demo.web_address() == "http://127.0.0.1:8123"
