"""Settings for the test suite: the real settings, on the services tests.services chose."""

import os
import tempfile

from tests.services import choose_services

choose_services()
if os.environ.get("PYTEST_XDIST_WORKER"):  # each xdist worker gets its own cache/throttle keys
    os.environ["ANIWORLD_KEY_PREFIX"] += f"-{os.environ['PYTEST_XDIST_WORKER']}"
os.environ.setdefault("ANIWORLD_DATA_DIR", tempfile.mkdtemp(prefix="aniworld-test-data-"))

from aniworld_site.settings import *  # noqa: E402,F403
from aniworld_site.settings import DATABASES  # noqa: E402

# One test database per run (pytest-xdist adds _gwN), so runs on one machine never collide.
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"]["NAME"] = f"test_aniworld_{os.environ['ANIWORLD_TEST_RUN_ID']}"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
