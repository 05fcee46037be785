"""The fake catalog site (aniworld.to, s.to and hosters) used by tests and `make demo`.

    from tests.fakesite import FakeCatalogSite
    with FakeCatalogSite() as site:
        site.env()                      # ANIWORLD_* variables that point Aniworld at it
        site.set_scenario(fail_times=2) # see Scenarios
        site.stats()                    # requests per path, bytes, concurrent media transfers

Standalone: ``python -m tests.fakesite --port 8765``.
"""

from tests.fakesite.server import FakeCatalogSite, Scenarios

__all__ = ["FakeCatalogSite", "Scenarios"]
