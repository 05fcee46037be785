"""Settings for a live stack that also serves the settings page (until the project urlconf routes /settings)."""

from aniworld_site.settings import *  # noqa: F403

ROOT_URLCONF = "tests.configuration.page_urls"
