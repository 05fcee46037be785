"""Run the fake catalog site: ``python -m tests.fakesite --port 8765``; prints its base URL and environment."""

from __future__ import annotations

import argparse
import signal
import threading

from tests.fakesite.server import FakeCatalogSite


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the offline fake aniworld.to / s.to catalog site.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--no-media", action="store_true", help="do not generate the media files up front")
    args = parser.parse_args(argv)
    site = FakeCatalogSite(args.host, args.port)
    if not args.no_media:
        site.media()
    site.start()
    print(site.base_url, flush=True)
    for name, value in site.env().items():
        print(f"{name}={value}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    site.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
