"""`make demo`: Aniworld against the offline fake catalog site, with a small demo library.

Starts the fake site (aniworld.to- and s.to-like pages, hosters, real media made
with ffmpeg), prepares ``./data-demo`` (its own database, library and embedded
Redis, so your real ``./data`` is untouched), creates the owner with the demo
password printed below, adds two series and one episode file, scans, and runs
web + worker + beat. Try: Search "moon" → add → Download all missing, and
watch the dashboard. Ctrl-C stops everything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from aniworld_site.stack import PROJECT_DIR
from aniworld_site.stack import main as run_stack
from tests.fakesite.server import FakeCatalogSite

DEMO_PASSWORD = "Demo-Password-2024!"
DEMO_DATA = PROJECT_DIR / "data-demo"
FAKE_SITE_PORT = int(os.environ.get("DEMO_CATALOG_PORT", "8765"))

SEED = """
from apps.accounts import services as accounts
from apps.library import services as library
from apps.library.models import Episode

if not accounts.is_setup_complete():
    accounts.create_owner({password!r})
for site, slug in (("aniworld", "moonlit-blade"), ("sto", "harbor-lights")):
    try:
        library.add_series(site, slug)
    except library.SeriesAlreadyExists:
        pass
first = Episode.objects.filter(season__series__slug="moonlit-blade", season__number=1, number=1).first()
target = library.episode_target_path(first, ".mp4", "de")
if not target.exists():
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(Path({sample!r}).read_bytes())
library.scan_library(full=True)
print("demo library ready")
"""


def main() -> int:
    site = FakeCatalogSite("127.0.0.1", FAKE_SITE_PORT)
    print(f"fake catalog site: generating media and serving on {site.base_url}", flush=True)
    media = site.media()
    site.start()
    env = {
        **os.environ,
        **site.env(),
        "ANIWORLD_DATA_DIR": str(DEMO_DATA),
        "ANIWORLD_LIBRARY_DIR": str(DEMO_DATA / "library"),
        "ANIWORLD_CATALOG_REQUESTS_PER_SECOND": "20",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    try:
        DEMO_DATA.mkdir(exist_ok=True)
        (DEMO_DATA / "run" / "redis.url").unlink(missing_ok=True)  # left behind if a demo was killed
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=PROJECT_DIR, env=env, check=True)
        subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], cwd=PROJECT_DIR, env=env, check=True)
        seed = SEED.format(password=DEMO_PASSWORD, sample=str(media.mp4))
        subprocess.run([*manage, "shell", "-c", seed], cwd=PROJECT_DIR, env=env, check=True)
        print(f"\n  Aniworld demo: http://127.0.0.1:8000   password: {DEMO_PASSWORD}\n", flush=True)
        os.environ.update(env)
        return run_stack([])
    finally:
        site.stop()


def reset() -> None:
    """Forget the demo's data (``make demo-reset``)."""
    shutil.rmtree(DEMO_DATA, ignore_errors=True)
    print(f"removed {DEMO_DATA}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--reset"]:
        reset()
        raise SystemExit(0)
    raise SystemExit(main())
