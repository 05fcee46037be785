"""`make demo`: Aniworld against the offline fake catalog site, with a small demo library.

Starts the fake site (aniworld.to- and s.to-like pages, hosters, real media made
with ffmpeg), prepares the demo's data folder (``./data-demo``, or
``ANIWORLD_DATA_DIR``: its own database, library and embedded Redis, so your real
``./data`` is untouched), creates the owner with the demo password printed below,
adds two series and one episode file, scans, and runs web + worker + beat on
``ANIWORLD_HOST``:``ANIWORLD_PORT``. Try: Search "moon" → add → Download all
missing, and watch the dashboard. Ctrl-C stops everything; running it again
reuses the demo's data.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from aniworld_site.env import env_int
from aniworld_site.stack import PROJECT_DIR
from aniworld_site.stack import main as run_stack
from tests.fakesite.server import FakeCatalogSite

DEMO_PASSWORD = "Demo-Password-2024!"
DEMO_SERIES = (("aniworld", "moonlit-blade"), ("sto", "harbor-lights"))
DEMO_MARKER = ".aniworld-demo"  # marks a data folder as the demo's (reset and reuse only touch such folders)


class NotADemoFolder(RuntimeError):
    pass


DEFAULT_DEMO_DATA = PROJECT_DIR / "data-demo"


def demo_data_dir() -> Path:
    """``ANIWORLD_DATA_DIR`` when set, else ``./data-demo``."""
    configured = os.environ.get("ANIWORLD_DATA_DIR", "").strip()
    return Path(configured).resolve() if configured else DEFAULT_DEMO_DATA


def is_demo_folder(data_dir: Path) -> bool:
    return data_dir == DEFAULT_DEMO_DATA or (data_dir / DEMO_MARKER).exists()


def claim_data_dir(data_dir: Path) -> None:
    """Use ``data_dir`` for the demo: a new or empty folder, or one a demo made before (never real data)."""
    if data_dir.is_dir() and any(data_dir.iterdir()) and not is_demo_folder(data_dir):
        raise NotADemoFolder(
            f"{data_dir} holds data that the demo did not make; point ANIWORLD_DATA_DIR at an empty folder"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / DEMO_MARKER).touch()


def seed_demo_library(password: str, sample_video: Path) -> None:
    """The owner, the demo series and one episode "on disk"; safe to run again on existing demo data."""
    from apps.accounts import services as accounts
    from apps.library import services as library
    from apps.library.models import Episode

    if not accounts.is_setup_complete():
        accounts.create_owner(password)
    for site, slug in DEMO_SERIES:
        with contextlib.suppress(library.SeriesAlreadyExists):
            library.add_series(site, slug)
    first = Episode.objects.get(season__series__slug="moonlit-blade", season__number=1, number=1)
    target = library.episode_target_path(first, "mp4", "de")
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(sample_video.read_bytes())
    library.scan_library(full=True)


def web_address() -> str:
    host = os.environ.get("ANIWORLD_HOST", "").strip() or "127.0.0.1"
    return f"http://{host}:{env_int('ANIWORLD_PORT', 8000, minimum=1, maximum=65535)}"


def main() -> int:
    data_dir = demo_data_dir()
    try:
        claim_data_dir(data_dir)
    except NotADemoFolder as exc:
        print(f"make demo: {exc}", file=sys.stderr)
        return 2
    site = FakeCatalogSite("127.0.0.1", env_int("DEMO_CATALOG_PORT", 0, minimum=0, maximum=65535))
    print(f"fake catalog site: generating media and serving on {site.base_url}", flush=True)
    media = site.media()
    site.start()
    env = {
        **os.environ,
        **site.env(),
        "ANIWORLD_DATA_DIR": str(data_dir),
        "ANIWORLD_LIBRARY_DIR": str(data_dir / "library"),
        "ANIWORLD_CATALOG_REQUESTS_PER_SECOND": "20",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    try:
        (data_dir / "run" / "redis.url").unlink(missing_ok=True)  # left behind if a demo was killed
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=PROJECT_DIR, env=env, check=True)
        subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], cwd=PROJECT_DIR, env=env, check=True)
        seed = (
            "from pathlib import Path\n"
            "from tests.fakesite.demo import seed_demo_library\n"
            f"seed_demo_library({DEMO_PASSWORD!r}, Path({str(media.mp4)!r}))\n"
            "print('demo library ready')\n"
        )
        subprocess.run([*manage, "shell", "-c", seed], cwd=PROJECT_DIR, env=env, check=True)
        os.environ.update(env)
        print(f"\n  Aniworld demo: {web_address()}   password: {DEMO_PASSWORD}\n", flush=True)
        return run_stack([])
    finally:
        site.stop()


def reset() -> None:
    """Forget the demo's data (``make demo-reset``); a folder the demo did not make is left alone."""
    data_dir = demo_data_dir()
    if data_dir.exists() and not is_demo_folder(data_dir):
        print(f"{data_dir} is not the demo's data folder; left alone", file=sys.stderr)
        return
    shutil.rmtree(data_dir, ignore_errors=True)
    print(f"removed {data_dir}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--reset"]:
        reset()
        raise SystemExit(0)
    raise SystemExit(main())
