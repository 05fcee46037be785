"""Pytest fixtures for the fake catalog site.

* ``fake_site_server`` (session): the running :class:`FakeCatalogSite` on a free port.
* ``fake_site``: the same server, with scenarios and statistics reset before the test.
* ``fake_catalog``: ``fake_site`` plus Aniworld pointed at it for this test — the
  ``ANIWORLD_*`` environment (inherited by processes the test starts), the host
  allow-listed, a fast request rate, short retry delays, fresh HTTP sessions.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakesite.server import FakeCatalogSite

FAST_CATALOG_ENV = {
    "ANIWORLD_CATALOG_REQUESTS_PER_SECOND": "1000",
    "ANIWORLD_CATALOG_RETRY_DELAY": "0.01",
}


@pytest.fixture(scope="session")
def fake_site_server() -> Iterator[FakeCatalogSite]:
    site = FakeCatalogSite().start()
    yield site
    site.stop()


@pytest.fixture
def fake_site(fake_site_server: FakeCatalogSite) -> Iterator[FakeCatalogSite]:
    fake_site_server.reset()
    yield fake_site_server
    fake_site_server.reset()


@pytest.fixture
def fake_catalog(fake_site: FakeCatalogSite, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCatalogSite]:
    from apps.catalog.http import reset_client

    for name, value in {**fake_site.env(), **FAST_CATALOG_ENV}.items():
        monkeypatch.setenv(name, value)
    reset_client()
    yield fake_site
    reset_client()
