"""The fake catalog site: aniworld.to, s.to and the hosters, each on its own port as on the internet.

The catalog sites are served at the root of their own listener (links such as
``/redirect/1001`` are relative to the host, never to a path prefix); the hosters,
media and ``/_control/`` share the main listener (:attr:`FakeCatalogSite.base_url`).
Statistics and scenario prefixes name the listener: a request for
``/anime/stream/x`` on the aniworld.to listener counts as ``/aw/anime/stream/x``,
on the s.to listener as ``/sto/…``; hoster paths stay as they are (``/hoster/voe/…``).

Threaded HTTP/1.1 servers serve the catalog pages (from the templates in
``pages/``), the search endpoints, covers, ``/redirect/<id>`` (aniworld) and
``/r?t=<token>`` (s.to) redirects, hoster embed pages with the real
obfuscations, the hosters' side endpoints (Doodstream ``/pass_md5``, Filemoon
``/api/videos``, Streamtape ``/get_video``) and real media (MP4 and HLS) with
HTTP Range support and per-hoster header checks.

Scenarios (:class:`Scenarios`) and statistics are shared by the Python API
(:class:`FakeCatalogSite`) and the HTTP API under ``/_control/``:

* ``GET  /_control/state``     current scenarios
* ``POST /_control/scenario``  JSON object of scenario fields to change
* ``POST /_control/reset``     scenarios back to normal and statistics cleared
* ``GET  /_control/stats``     requests per path, bytes served, media transfers
"""

from __future__ import annotations

import base64
import dataclasses
import html
import itertools
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from apps.catalog.resolvers import RESOLVERS
from apps.catalog.types import Language, Site
from tests.fakesite import obfuscation
from tests.fakesite.catalog import (
    HOSTER_PATHS,
    HOSTILE_EPISODE_TITLES,
    HOSTILE_TITLE,
    LANGUAGE_FLAG,
    LANGUAGE_KEY,
    STO_FLAG_NAME,
    STO_LANGUAGE_FLAG,
    STO_LANGUAGE_KEY,
    STO_LANGUAGE_LABEL,
    FakeCatalog,
    FakeEpisode,
    FakeLink,
    FakeSeries,
    build_catalog,
)
from tests.fakesite.media import HEIGHT, MediaFiles, cover_png, ensure_media

PAGES_DIR = Path(__file__).parent / "pages"
SITE_PREFIX = {Site.ANIWORLD: "/aw", Site.STO: "/sto"}  # how statistics and scenarios name each site's listener
SERIES_ROOT = {Site.ANIWORLD: "/anime/stream", Site.STO: "/serie/stream"}  # s.to's older layout
STO_SERIES_ROOT = "/serie"  # s.to's current layout
STO_SEARCH_PAGE_SIZE = 1  # so a two-result search already has a second page
STO_PLACEHOLDER_EVERY = 4  # every 4th s.to button names its hoster only by its image
SITE_NAME = {Site.ANIWORLD: "AniWorld", Site.STO: "SerienStream"}
# Media of these hosters answer 403 without a Referer; these serve HLS (both as their resolvers' samples say).
REFERER_REQUIRED = frozenset(
    HOSTER_PATHS[r.name] for r in RESOLVERS if r.name in HOSTER_PATHS and any(s.referer_required for s in r.samples)
)
HLS_HOSTERS = frozenset(
    HOSTER_PATHS[r.name] for r in RESOLVERS if r.name in HOSTER_PATHS and any(s.kind == "hls" for s in r.samples)
)
BROKEN_LAYOUT_REPLACEMENTS = (
    ("series-title", "series-heading"),
    ("seasonEpisodesList", "episodeList"),
    ("hosterSiteDirectNav", "directNav"),
    ("changeLanguageBox", "languageBox"),
    ("data-lang-key", "data-language"),
    ("data-play-url", "data-stream-url"),
    ("h1", "h5"),  # s.to's current layout
    ("episode-row", "episode-line"),
    ("season-nav", "season-list"),
)
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_COOKIE_NUMBERS = itertools.count(1)


@cache
def _template(name: str) -> str:
    return (PAGES_DIR / name).read_text(encoding="utf-8")


def render(name: str, **values: Any) -> str:
    """Fill ``{{name}}`` placeholders of a page template; values are inserted as given (escape first)."""

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise KeyError(f"template {name} needs {{{{{key}}}}}")
        return str(values[key])

    return PLACEHOLDER.sub(fill, _template(name))


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


@dataclass
class Scenarios:
    """Switches for misbehaviour. Prefixes match request paths; ``""`` means every path (never ``/_control``)."""

    slow_bytes_per_second: int | None = None  # media bodies are sent at this rate
    fail_times: int = 0  # the next N matching requests answer fail_status
    fail_status: int = 503
    fail_prefix: str = ""
    block_prefix: str | None = None  # 403 from DDoS-Guard (its Server header and __ddg cookies) for matching paths
    challenge_prefix: str | None = None  # DDoS-Guard's 200 JS-challenge page: only its title and script tell
    captcha_prefix: str | None = None  # a Cloudflare Turnstile page for matching paths
    truncate_media: bool = False  # media responses announce the full length, send half, close
    dead_hosters: list[str] = field(default_factory=list)  # hoster names whose embed pages say "file not found"
    hostile_titles: bool = False  # every series and episode title becomes hostile
    broken_layout: bool = False  # catalog pages lose the classes/attributes the parser needs
    broken_search: bool = False  # /ajax/search answers 404 HTML (the legacy endpoint still works)
    redirect_target: str | None = None  # catalog redirects (/redirect/<id>, /r?t=) point here instead
    embed_redirect_target: str | None = None  # hoster embed pages answer 302 to this URL
    sto_layout: str = "current"  # s.to's markup: "current" (2026 redesign) or "classic" (the aniworld.to engine)
    sto_redirect_stays: bool = False  # s.to's /r?t= stays on the site: "Stream wird vorbereitet..." captcha modal

    def update(self, changes: dict[str, Any]) -> None:
        names = {f.name for f in dataclasses.fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise ValueError(f"unknown scenario fields: {', '.join(sorted(unknown))}")
        for name, value in changes.items():
            setattr(self, name, value)


@dataclass
class Stats:
    requests: Counter[str] = field(default_factory=Counter)
    requests_with_cookie: Counter[str] = field(default_factory=Counter)  # carried the site's __ddg1_ cookie
    user_agents: Counter[str] = field(default_factory=Counter)
    bytes_served: int = 0
    current_transfers: int = 0
    max_transfers: int = 0
    active_media: Counter[str] = field(default_factory=Counter)  # media key -> transfers in flight
    max_concurrent_media: int = 0

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "requests_with_cookie": dict(self.requests_with_cookie),
            "user_agents": dict(self.user_agents),
            "bytes_served": self.bytes_served,
            "media": {
                "current_transfers": self.current_transfers,
                "max_transfers": self.max_transfers,
                "current_downloads": len(+self.active_media),
                "max_concurrent_downloads": self.max_concurrent_media,
            },
        }


class FakeCatalogSite:
    """Start with :meth:`start`; point Aniworld at it with :meth:`env`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, media_root: Path | None = None):
        self.catalog: FakeCatalog = build_catalog()
        self.scenarios = Scenarios()
        self.stats_data = Stats()
        self.lock = threading.RLock()
        self._media_root = media_root
        self._media: MediaFiles | None = None
        # The main listener (hosters, media, control) on ``port``; each site on the next port (any free one for 0).
        self._httpd = self._listen(host, port, "")
        self._site_httpd = {
            site: self._listen(host, port + offset if port else 0, SITE_PREFIX[site])
            for offset, site in enumerate((Site.ANIWORLD, Site.STO), start=1)
        }
        self._threads: list[threading.Thread] = []

    def _listen(self, host: str, port: int, prefix: str) -> _Server:
        server = _Server((host, port), _Handler)
        server.site = self
        server.prefix = prefix
        return server

    @property
    def _servers(self) -> list[_Server]:
        return [self._httpd, *self._site_httpd.values()]

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> FakeCatalogSite:
        for server in self._servers:
            thread = threading.Thread(target=server.serve_forever, name=f"fake-catalog{server.prefix}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> FakeCatalogSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------
    @property
    def host(self) -> str:
        return self._httpd.server_address[0]

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def site_url(self, site: Site) -> str:
        host, port = self._site_httpd[Site(site)].server_address[:2]
        return f"http://{host}:{port}"

    @property
    def aniworld_url(self) -> str:
        return self.site_url(Site.ANIWORLD)

    @property
    def sto_url(self) -> str:
        return self.site_url(Site.STO)

    @property
    def allowed_host(self) -> str:
        """``host:port`` of the main listener (hosters and media)."""
        return f"{self.host}:{self.port}"

    @property
    def allowed_hosts(self) -> list[str]:
        """``host:port`` of every listener."""
        return [self.allowed_host, *(self.site_url(site).split("//", 1)[1] for site in self._site_httpd)]

    def env(self) -> dict[str, str]:
        """Environment that points Aniworld (web and workers) at this site."""
        return {
            "ANIWORLD_ANIWORLD_URL": self.aniworld_url,
            "ANIWORLD_STO_URL": self.sto_url,
            "ANIWORLD_CATALOG_ALLOWED_HOSTS": ",".join(self.allowed_hosts),
        }

    def redirect_url(self, link: FakeLink) -> str:
        series = next(s for s in self.catalog.series if any(link in e.links for eps in s.seasons.values() for e in eps))
        if series.site == Site.STO:
            return f"{self.sto_url}/r?t={link.token}"
        return f"{self.aniworld_url}/redirect/{link.link_id}"

    def embed_url(self, link: FakeLink) -> str:
        path = HOSTER_PATHS[link.hoster]
        if path in ("vidoza", "vidmoly"):
            return f"{self.base_url}/hoster/{path}/embed-{link.code}.html"
        if path == "speedfiles":
            return f"{self.base_url}/hoster/speedfiles/{link.code}"
        if path == "loadx":
            return f"{self.base_url}/hoster/loadx/video/{link.code}"
        return f"{self.base_url}/hoster/{path}/e/{link.code}"

    def media_url(self, hoster_path: str, code: str, kind: str) -> str:
        if kind == "hls":
            return f"{self.base_url}/media/{hoster_path}/{code}/hls/index.m3u8"
        return f"{self.base_url}/media/{hoster_path}/{code}/video.mp4"

    # -- scenarios and stats ---------------------------------------------------------
    def set_scenario(self, **changes: Any) -> None:
        with self.lock:
            self.scenarios.update(changes)

    def scenario_state(self) -> dict[str, Any]:
        with self.lock:
            return dataclasses.asdict(self.scenarios)

    def reset(self) -> None:
        """Scenarios back to normal and statistics cleared."""
        with self.lock:
            self.scenarios = Scenarios()
            self.stats_data = Stats()

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return json.loads(json.dumps(self.stats_data.snapshot()))

    def requests_to(self, path_prefix: str) -> int:
        with self.lock:
            return sum(n for path, n in self.stats_data.requests.items() if path.startswith(path_prefix))

    def media(self) -> MediaFiles:
        if self._media is None:
            self._media = ensure_media(self._media_root)
        return self._media

    @contextmanager
    def transfer(self, media_key: str) -> Iterator[None]:
        with self.lock:
            stats = self.stats_data
            stats.current_transfers += 1
            stats.max_transfers = max(stats.max_transfers, stats.current_transfers)
            stats.active_media[media_key] += 1
            stats.max_concurrent_media = max(stats.max_concurrent_media, len(+stats.active_media))
        try:
            yield
        finally:
            with self.lock:
                stats.current_transfers -= 1
                stats.active_media[media_key] -= 1

    # -- content helpers -------------------------------------------------------------
    def series_title(self, series: FakeSeries) -> str:
        return HOSTILE_TITLE if self.scenarios.hostile_titles else series.title

    def episode_titles(self, episode: FakeEpisode) -> tuple[str, str]:
        if self.scenarios.hostile_titles:
            return HOSTILE_EPISODE_TITLES
        return episode.title_de, episode.title_en


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    site: FakeCatalogSite
    prefix: str  # "/aw", "/sto", or "" for the main listener


Route = tuple[str, re.Pattern[str], Callable[..., None]]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "FakeCatalog/1.0"

    # -- plumbing ----------------------------------------------------------------
    @property
    def site(self) -> FakeCatalogSite:
        return self.server.site

    def log_message(self, format: str, *args: Any) -> None:  # silence per-request logging
        return

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def _body(self) -> bytes:
        """The request body, read once (always read, so a keep-alive connection stays in sync)."""
        if not hasattr(self, "_request_body"):
            length = int(self.headers.get("Content-Length") or 0)
            self._request_body = self.rfile.read(length) if length else b""
        return self._request_body

    def send(
        self,
        status: int,
        body: bytes | str,
        content_type: str = "text/html; charset=utf-8",
        headers: dict | None = None,
    ) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            for item in value if isinstance(value, list) else [value]:
                self.send_header(name, item)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
            with self.site.lock:
                self.site.stats_data.bytes_served += len(data)

    def send_json(self, status: int, value: Any) -> None:
        self.send(status, json.dumps(value, ensure_ascii=False), "application/json; charset=utf-8")

    def redirect(self, location: str) -> None:
        self.send(302, "", headers={"Location": location})

    def not_found(self) -> None:
        self.send(404, "<!doctype html><title>404</title><h1>Seite nicht gefunden</h1>")

    def catalog_html(self, status: int, text: str) -> None:
        if self.site.scenarios.broken_layout:
            for old, new in BROKEN_LAYOUT_REPLACEMENTS:
                text = text.replace(old, new)
        headers = {}
        if "__ddg1_=" not in (self.headers.get("Cookie") or ""):  # DDoS-Guard hands out cookies on every page
            headers["Set-Cookie"] = f"__ddg1_={next(_COOKIE_NUMBERS)}; Path=/; HttpOnly"
        self.send(status, text, headers=headers)

    # -- dispatch ------------------------------------------------------------------
    def version_string(self) -> str:
        return self.server_software

    def _dispatch(self, method: str) -> None:
        self.server_software = self.server_version
        if hasattr(self, "_request_body"):
            del self._request_body  # the handler object serves every request of a keep-alive connection
        self._body()
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        prefix = self.server.prefix
        path = prefix + parts.path  # the listener-qualified path (see the module docstring)
        try:
            if not prefix and path.startswith("/_control/"):
                self._control(method, path)
                return
            if not prefix and path.startswith(tuple(f"{p}/" for p in SITE_PREFIX.values())):
                self.not_found()  # the sites answer on their own listeners only
                return
            with self.site.lock:
                self.site.stats_data.requests[path] += 1
                self.site.stats_data.user_agents[self.headers.get("User-Agent") or ""] += 1
                if "__ddg1_=" in (self.headers.get("Cookie") or ""):
                    self.site.stats_data.requests_with_cookie[path] += 1
                scenarios = self.site.scenarios
                blocked = scenarios.block_prefix is not None and path.startswith(scenarios.block_prefix)
                captcha = scenarios.captcha_prefix is not None and path.startswith(scenarios.captcha_prefix)
                challenge = scenarios.challenge_prefix is not None and path.startswith(scenarios.challenge_prefix)
                failing = scenarios.fail_times > 0 and path.startswith(scenarios.fail_prefix)
                if failing and not (blocked or captcha or challenge):
                    scenarios.fail_times -= 1
                fail_status = scenarios.fail_status
            if blocked:
                self.server_software = "ddos-guard"
                self.send(
                    403,
                    render("ddos_guard.html"),
                    headers={"Set-Cookie": ["__ddg1_=fake1; Path=/", "__ddg2_=fake2; Path=/"]},
                )
                return
            if captcha:
                self.send(200, render("captcha.html"))
                return
            if challenge:
                self.send(200, render("ddos_guard_challenge.html"))
                return
            if failing:
                self.send(fail_status, f"<h1>{fail_status} Service Unavailable</h1>", headers={"Retry-After": "0"})
                return
            for route_method, pattern, handler in ROUTES:
                match = pattern.fullmatch(path)
                if match and (route_method == method or (route_method == "GET" and method == "HEAD")):
                    handler(self, query=query, **match.groupdict())
                    return
            self.not_found()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _control(self, method: str, path: str) -> None:
        if path == "/_control/state" and method == "GET":
            self.send_json(200, self.site.scenario_state())
        elif path == "/_control/stats" and method == "GET":
            self.send_json(200, self.site.stats())
        elif path == "/_control/reset" and method == "POST":
            self._body()
            self.site.reset()
            self.send_json(200, {"ok": True})
        elif path == "/_control/scenario" and method == "POST":
            try:
                changes = json.loads(self._body() or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("send a JSON object")
                self.site.set_scenario(**changes)
            except ValueError as exc:
                self.send_json(400, {"error": str(exc)})
                return
            self.send_json(200, self.site.scenario_state())
        else:
            self.send_json(404, {"error": f"no control endpoint {method} {path}"})

    # -- catalog pages ----------------------------------------------------------------
    def _series(self, prefix: str, slug: str) -> FakeSeries | None:
        site = Site.ANIWORLD if prefix == "aw" else Site.STO
        return self.site.catalog.find(site, slug)

    def _sto_current(self, prefix: str) -> bool:
        return prefix == "sto" and self.site.scenarios.sto_layout == "current"

    def search(self, *, prefix: str, query: dict, **_: Any) -> None:
        if self.site.scenarios.broken_search or self._sto_current(prefix):
            self.not_found()
            return
        if self.headers.get("X-Requested-With") != "XMLHttpRequest":
            self.send(400, "<h1>Bad Request</h1>")
            return
        form = parse_qs(self._body().decode("utf-8", errors="replace"))
        keyword = (form.get("keyword") or [""])[0]
        self.send_json(200, self._search_entries(prefix, keyword, legacy=False))

    def legacy_search(self, *, prefix: str, query: dict, **_: Any) -> None:
        if self._sto_current(prefix):
            self.not_found()
            return
        keyword = (query.get("keyword") or [""])[0]
        self.send_json(200, self._search_entries(prefix, keyword, legacy=True))

    def _search_entries(self, prefix: str, keyword: str, *, legacy: bool) -> list[dict[str, Any]]:
        site = Site.ANIWORLD if prefix == "aw" else Site.STO
        wanted = keyword.casefold().strip()
        if not wanted:
            return []
        entries: list[dict[str, Any]] = []
        for series in self.site.catalog.of_site(site):
            names = [series.title, *series.alternative_titles]
            if not any(wanted in name.casefold() for name in names):
                continue
            title = self.site.series_title(series)
            years = f"{series.year_start} - {series.year_end or 'Heute'}"
            if legacy:
                entries.append({"name": esc(title), "link": series.slug, "productionYear": years})
                continue
            entries.append(
                {
                    "title": _highlight(title, wanted),
                    "description": esc(series.description[:120]),
                    "link": f"{SERIES_ROOT[site]}/{series.slug}",
                    "cover": f"/public/img/cover/{series.slug}.png",
                }
            )
        if entries and not legacy:  # the real endpoint also returns genre and help pages
            entries.append({"title": f"Genre: <em>{esc(keyword)}</em>", "description": "", "link": "/animes/genre/x"})
        return entries

    def series_page(self, *, prefix: str, slug: str, season: str | None = None, **_: Any) -> None:
        series = self._series(prefix, slug)
        if series is None:
            self.not_found()
            return
        number = int(season) if season is not None else (series.season_numbers or [0])[0]
        if number not in series.seasons:
            self.not_found()
            return
        if self._sto_current(prefix):
            self._render_sto(series, number, self._sto_season_table(series, number))
            return
        self._render_series(series, number, self._season_table(series, number))

    def films_page(self, *, prefix: str, slug: str, **_: Any) -> None:
        series = self._series(prefix, slug)
        if series is None or not series.has_films:
            self.not_found()
            return
        self._render_series(series, 0, self._season_table(series, 0))

    def episode_page(self, *, prefix: str, slug: str, season: str | None = None, number: str, **_: Any) -> None:
        series = self._series(prefix, slug)
        season_number = int(season) if season is not None else 0
        episode = series.episode(season_number, int(number)) if series else None
        if series is None or episode is None:
            self.not_found()
            return
        if self._sto_current(prefix):
            table = self._sto_season_table(series, season_number)
            self._render_sto(series, season_number, self._sto_episode(episode) + table)
            return
        block = self._sto_episode_block(episode) if series.site == Site.STO else self._episode_block(episode)
        self._render_series(series, season_number, block)

    def _series_path(self, series: FakeSeries) -> str:
        if series.site == Site.STO and self.site.scenarios.sto_layout == "current":
            return f"{STO_SERIES_ROOT}/{series.slug}"
        return f"{SERIES_ROOT[series.site]}/{series.slug}"

    def _episode_path(self, series: FakeSeries, episode: FakeEpisode) -> str:
        if episode.season == 0:
            return f"{self._series_path(series)}/filme/film-{episode.number}"
        return f"{self._series_path(series)}/staffel-{episode.season}/episode-{episode.number}"

    def _render_series(self, series: FakeSeries, season: int, content: str) -> None:
        root = self._series_path(series)
        season_links = []
        if series.has_films:
            active = ' class="active"' if season == 0 else ""
            season_links.append(f'<li><a href="{root}/filme" title="Alle Filme"{active}>Filme</a></li>')
        for number in series.season_numbers:
            active = ' class="active"' if number == season else ""
            season_links.append(
                f'<li><a href="{root}/staffel-{number}" title="Staffel {number}"{active}>{number}</a></li>'
            )
        episode_links = [
            f'<li><a href="{self._episode_path(series, e)}" data-episode-id="{e.episode_id}" '
            f'data-season-id="{season}" title="Staffel {season} Episode {e.number}">{e.number}</a></li>'
            for e in series.seasons.get(season, [])
        ]
        title = self.site.series_title(series)
        genres = "".join(
            f'<li><a href="/genre/{esc(g.lower())}" class="genreButton clearbutton" itemprop="genre">{esc(g)}</a></li>'
            for g in series.genres
        )
        page = render(
            "series.html",
            site_name=SITE_NAME[series.site],
            slug=series.slug,
            title=esc(title),
            alternative_titles=esc(", ".join(series.alternative_titles)),
            year_start=series.year_start,
            year_end=series.year_end or "Heute",
            fsk=series.fsk,
            imdb=series.imdb_id,
            description=esc(series.description),
            short_description=esc(series.description[:40]),
            main_genre=esc(series.genres[0] if series.genres else ""),
            genres=genres,
            rating=series.rating,
            season_links="\n      ".join(season_links),
            episode_links="\n      ".join(episode_links),
            content=content,
        )
        self.catalog_html(200, page)

    def _flags(self, site: Site, languages: list[Language], *, with_keys: bool) -> str:
        flags = STO_LANGUAGE_FLAG if site == Site.STO else LANGUAGE_FLAG
        keys = STO_LANGUAGE_KEY if site == Site.STO else LANGUAGE_KEY
        out = []
        for index, language in enumerate(languages):
            image, title = flags[language]
            if with_keys:
                selected = ' class="selectedLanguage"' if index == 0 else ""
                out.append(
                    f'<img data-lang-key="{keys[language]}" src="/public/img/{image}" '
                    f'title="{title}" alt="{title}"{selected}>'
                )
            else:
                out.append(f'<img class="flag" src="/public/img/{image}" title="{title}">')
        return "".join(out)

    def _season_table(self, series: FakeSeries, season: int) -> str:
        rows = []
        for episode in series.seasons[season]:
            title_de, title_en = self.site.episode_titles(episode)
            hosters = dict.fromkeys(link.hoster for link in episode.links)
            rows.append(
                render(
                    "season_row.html",
                    episode_id=episode.episode_id,
                    number=episode.number,
                    season=season,
                    url=self._episode_path(series, episode),
                    title_de=esc(title_de),
                    title_en=esc(title_en),
                    hoster_icons="".join(f'<i class="icon {h}" title="{h}"></i>' for h in hosters),
                    flags=self._flags(series.site, episode.languages, with_keys=False),
                )
            )
        return render("season_table.html", season=season, rows="".join(rows))

    def _episode_block(self, episode: FakeEpisode) -> str:
        title_de, title_en = self.site.episode_titles(episode)
        hosters = "".join(
            render("hoster_item.html", link_id=link.link_id, lang_key=LANGUAGE_KEY[link.language], hoster=link.hoster)
            for link in episode.links
        )
        return render(
            "episode_block.html",
            episode_id=episode.episode_id,
            title_de=esc(title_de),
            title_en=esc(title_en),
            flags=self._flags(Site.ANIWORLD, episode.languages, with_keys=True),
            hosters=hosters,
        )

    def _sto_episode_block(self, episode: FakeEpisode) -> str:
        title_de, title_en = self.site.episode_titles(episode)
        hosters = "".join(
            render(
                "sto_hoster_item.html",
                token=link.token,
                hoster=link.hoster,
                language_label=STO_LANGUAGE_FLAG[link.language][1],
                lang_key=STO_LANGUAGE_KEY[link.language],
                link_id=link.link_id,
            )
            for link in episode.links
        )
        return render(
            "sto_episode_block.html",
            episode_id=episode.episode_id,
            season_padded=f"{episode.season:02d}",
            number_padded=f"{episode.number:02d}",
            title_de=esc(title_de),
            title_en=esc(title_en),
            hosters=hosters,
        )

    # -- s.to's current layout (see apps/catalog/providers/sto.py) ---------------------------
    def _render_sto(self, series: FakeSeries, season: int, content: str) -> None:
        root = self._series_path(series)
        season_links = [
            f'<li class="nav-item"><a href="{root}/staffel-{n}" class="nav-link{" bg-primary" if n == season else ""}"'
            f' title="Staffel {n}">{n}</a></li>'
            for n in series.season_numbers
        ]
        genres = ", ".join(
            f'<a href="https://serienstream.to/genre/{esc(g.lower())}" class="link-light">{esc(g)}</a>'
            for g in series.genres
        )
        page = render(
            "sto_page.html",
            slug=series.slug,
            title=esc(self.site.series_title(series)),
            year_start=series.year_start,
            year_end=series.year_end or "NA",
            fsk=series.fsk,
            imdb=series.imdb_id,
            description=esc(series.description),
            genres=genres,
            season_links="\n    ".join(season_links),
            content=content,
        )
        self.catalog_html(200, page)

    @staticmethod
    def _sto_flags(languages: list[Language]) -> str:
        return "".join(
            f'<svg class="watch-language svg-flag-{STO_FLAG_NAME[language]}" width="24" height="16">'
            f'<use href="#icon-flag-{STO_FLAG_NAME[language]}"></use></svg>'
            for language in languages
        )

    def _sto_season_table(self, series: FakeSeries, season: int) -> str:
        rows = []
        for episode in series.seasons[season]:
            title_de, title_en = self.site.episode_titles(episode)
            hosters = dict.fromkeys(link.hoster for link in episode.links)
            rows.append(
                render(
                    "sto_season_row.html",
                    row_class="seen" if episode.number == 1 else "",
                    url=self._episode_path(series, episode),
                    number=episode.number,
                    title_de=esc(title_de),
                    title_en=esc(title_en),
                    hoster_icons="".join(
                        f'<img class="watch-link" src="/storage/providers/{HOSTER_PATHS[h]}.svg" alt="{h}" '
                        f'width="24" height="24" loading="lazy">'
                        for h in hosters
                    ),
                    flags=self._sto_flags(episode.languages),
                )
            )
        return render("sto_season_table.html", season=season, rows="".join(rows))

    def _sto_episode(self, episode: FakeEpisode) -> str:
        title_de, title_en = self.site.episode_titles(episode)
        heading = " ".join(part for part in (esc(title_de), f"({esc(title_en)})" if title_en else "") if part)
        return render(
            "sto_episode.html",
            episode_id=episode.episode_id,
            season_padded=f"{episode.season:02d}",
            number_padded=f"{episode.number:02d}",
            heading_titles=heading,
            title_de=esc(title_de),
            buttons="\n".join(self._sto_button(link) for link in episode.links),
        )

    @staticmethod
    def _sto_button(link: FakeLink) -> str:
        """One hoster button; the attribute order rotates and some name only their image, as on the real site."""
        language_label = STO_LANGUAGE_LABEL[link.language]
        named = link.link_id % STO_PLACEHOLDER_EVERY != 0
        attributes = [
            f'data-play-url="/r?t={esc(sto_token(link))}"',
            f'data-provider-name="{esc(link.hoster) if named else "Provider"}"',
            f'data-language-label="{language_label}"',
            f'data-language-id="{STO_LANGUAGE_KEY[link.language]}"',
        ]
        shift = link.link_id % len(attributes)
        ordered = " ".join(['class="link-box btn btn-sm btn-outline-light"', *attributes[shift:], *attributes[:shift]])
        image = f'<img src="/storage/providers/{HOSTER_PATHS[link.hoster]}.svg" alt="{esc(link.hoster)}" width="20">'
        flag = f'<svg class="svg-flag-{STO_FLAG_NAME[link.language]}"><use href="#icon-flag-{STO_FLAG_NAME[link.language]}"></use></svg>'
        text = f" {esc(link.hoster)}" if named else ""
        return f'    <button type="button" {ordered}>{image}{flag}{text}</button>'

    def sto_suggest(self, *, query: dict, **_: Any) -> None:
        """``/api/search/suggest?term=``: shows, people and genres; empty below three characters."""
        if self.site.scenarios.sto_layout != "current" or self.site.scenarios.broken_search:
            self.not_found()
            return
        term = (query.get("term") or [""])[0].strip()
        shows = []
        if len(term) >= 3:
            shows = [
                {"name": _highlight(self.site.series_title(series), term.casefold()), "url": f"/serie/{series.slug}"}
                for series in self._sto_matches(term)
            ]
        genres = [{"name": f"<em>{esc(term)}</em>-Genre", "url": "/genre/x"}] if shows else []
        self.send_json(200, {"shows": shows, "people": [], "genres": genres})

    def _sto_matches(self, term: str) -> list[FakeSeries]:
        wanted = term.casefold()
        return [
            series
            for series in self.site.catalog.of_site(Site.STO)
            if any(wanted in name.casefold() for name in (series.title, *series.alternative_titles))
        ]

    def sto_search_page(self, *, query: dict, **_: Any) -> None:
        """``/suche?term=&page=``: HTML cards, one series per page, ``a[rel=next]`` while more follow."""
        if self.site.scenarios.sto_layout != "current":
            self.not_found()
            return
        term = (query.get("term") or [""])[0].strip()
        number = int((query.get("page") or ["1"])[0] or 1)
        found = self._sto_matches(term) if term else []
        start = (number - 1) * STO_SEARCH_PAGE_SIZE
        cards = [
            render(
                "sto_search_card.html",
                slug=series.slug,
                title=_highlight(self.site.series_title(series), term.casefold()),
                plain_title=esc(self.site.series_title(series)),
            )
            for series in found[start : start + STO_SEARCH_PAGE_SIZE]
        ]
        next_link = ""
        if start + STO_SEARCH_PAGE_SIZE < len(found):
            href = esc(f"/suche?term={quote(term)}&page={number + 1}")
            next_link = f'<a class="page-link" rel="next" href="{href}">Weiter &raquo;</a>'
        self.catalog_html(200, render("sto_search.html", term=esc(term), cards="".join(cards), next_link=next_link))

    def sto_channel_image(self, *, slug: str, **_: Any) -> None:
        self.cover(slug=slug)

    def cover(self, *, slug: str, **_: Any) -> None:
        if not any(s.slug == slug for s in self.site.catalog.series):
            self.not_found()
            return
        self.send(200, cover_png(slug), "image/png")

    def catalog_redirect(self, *, link_id: str, **_: Any) -> None:
        link = self.site.catalog.links.get(int(link_id))
        if link is None:
            self.not_found()
            return
        self.redirect(self.site.scenarios.redirect_target or self.site.embed_url(link))

    def sto_redirect(self, *, query: dict, **_: Any) -> None:
        token = (query.get("t") or [""])[0]
        link = next((link for link in self.site.catalog.links.values() if token in (link.token, sto_token(link))), None)
        if link is None:
            self.not_found()
            return
        if self.site.scenarios.sto_redirect_stays:  # a human has to pass the modal first
            self.catalog_html(200, render("sto_prepare.html", token=esc(quote(token))))
            return
        self.redirect(self.site.scenarios.redirect_target or self.site.embed_url(link))

    # -- hosters -----------------------------------------------------------------------
    def _link(self, hoster_path: str, code: str) -> FakeLink | None:
        """The link behind an embed code, or None after answering (unknown, dead, or dead hoster)."""
        link = self.site.catalog.link_by_code(code)
        if link is None or HOSTER_PATHS[link.hoster] != hoster_path:
            self.not_found()
            return None
        if self.site.scenarios.embed_redirect_target:
            self.redirect(self.site.scenarios.embed_redirect_target)
            return None
        if link.dead:
            self.send(404, render("dead_file.html"))
            return None
        if link.hoster in self.site.scenarios.dead_hosters:
            self.send(200, render("dead_file.html"))
            return None
        return link

    def voe_embed(self, *, code: str, **_: Any) -> None:
        link = self._link("voe", code)
        if link is None:
            return
        if link.variant == "legacy":
            mirror = f"{self.site.base_url}/hoster/voe/mirror/e/{code}"
            self.send(200, render("embed_voe_redirect.html", mirror_url=mirror, mirror_host=self.site.allowed_host))
            return
        payload = obfuscation.voe_encode_payload(
            {
                "source": self.site.media_url("voe", code, "hls"),
                "direct_access_url": self.site.media_url("voe", code, "file"),
                "title": f"{code}.mp4",
            }
        )
        self.send(200, render("embed_voe.html", title=code, payload_json=json.dumps([payload])))

    def voe_mirror(self, *, code: str, **_: Any) -> None:
        if self._link("voe", code) is None:
            return
        hls = obfuscation.voe_legacy_value(self.site.media_url("voe", code, "hls"))
        self.send(200, render("embed_voe_legacy.html", title=code, hls_b64=hls, height=HEIGHT))

    def dood_embed(self, *, code: str, **_: Any) -> None:
        link = self._link("dood", code)
        if link is not None:
            self.send(200, render("embed_dood.html", title=code, code=code, token=link.token, expiry=int(time.time())))

    def dood_pass_md5(self, *, code: str, token: str, **_: Any) -> None:
        link = self.site.catalog.link_by_code(code)
        if link is None or link.token != token:
            self.not_found()
            return
        if not self._referer_ok():
            self.send(403, "Forbidden: no referer")
            return
        self.send(200, f"{self.site.base_url}/media/dood/{code}/file-", "text/plain")

    def vidoza_embed(self, *, code: str, **_: Any) -> None:
        if self._link("vidoza", code) is not None:
            mp4 = self.site.media_url("vidoza", code, "file")
            self.send(200, render("embed_vidoza.html", title=code, mp4_url=mp4, height=HEIGHT))

    def vidmoly_embed(self, *, code: str, **_: Any) -> None:
        if self._link("vidmoly", code) is not None:
            self.send(
                200, render("embed_vidmoly.html", title=code, hls_url=self.site.media_url("vidmoly", code, "hls"))
            )

    def filemoon_embed(self, *, code: str, **_: Any) -> None:
        link = self._link("filemoon", code)
        if link is None:
            return
        if link.variant == "packed":
            source = (
                'jwplayer("vplayer").setup({sources:[{file:"' + self.site.media_url("filemoon", code, "hls") + '"}],'
                'image:"/hoster/filemoon/thumb.jpg",width:"100%",height:"100%",stretching:"uniform"});'
            )
            self.send(200, render("embed_filemoon_packed.html", title=code, packed=obfuscation.pack_js(source)))
        else:
            self.send(200, render("embed_filemoon.html", title=code, code=code))

    def filemoon_api(self, *, code: str, **_: Any) -> None:
        link = self.site.catalog.link_by_code(code)
        dead = link is not None and (link.dead or link.hoster in self.site.scenarios.dead_hosters)
        if link is None or link.hoster != "Filemoon" or link.variant == "packed" or dead:
            self.send_json(404, {"error": "not found"})
            return
        sources = {
            "sources": [
                {"url": self.site.media_url("filemoon", code, "file"), "height": 90, "label": "90p"},
                {"url": self.site.media_url("filemoon", code, "hls"), "height": HEIGHT, "label": f"{HEIGHT}p"},
            ]
        }
        self.send_json(200, {"id": code, "playback": obfuscation.filemoon_playback(sources)})

    def streamtape_embed(self, *, code: str, **_: Any) -> None:
        link = self._link("streamtape", code)
        if link is None:
            return
        base = self.site.base_url.split(":", 1)[1]  # "//host:port"
        script = obfuscation.streamtape_script(f"{base}/get_video?id={code}&expires=9999999999&ip=x&token=", link.token)
        self.send(200, render("embed_streamtape.html", title=code, code=code, script=script))

    def streamtape_get_video(self, *, query: dict, **_: Any) -> None:
        code, token = (query.get("id") or [""])[0], (query.get("token") or [""])[0]
        link = self.site.catalog.link_by_code(code)
        if link is None or link.token != token:
            self.send(403, "Forbidden: wrong token")
            return
        self.redirect(self.site.media_url("streamtape", code, "file"))

    def speedfiles_embed(self, *, code: str, **_: Any) -> None:
        if self._link("speedfiles", code) is None:
            return
        payload = obfuscation.speedfiles_encode(self.site.media_url("speedfiles", code, "file"))
        decoy_b64 = base64.b64encode(f"decoy-{code}".encode()).decode("ascii")
        page = render(
            "embed_speedfiles.html", title=code, payload=payload, decoy_hex=code.encode().hex(), decoy_b64=decoy_b64
        )
        self.send(200, page)

    def luluvdo_embed(self, *, code: str, **_: Any) -> None:
        link = self._link("luluvdo", code)
        if link is None:
            return
        setup = (
            'jwplayer("vplayer").setup({sources: [{file:"' + self.site.media_url("luluvdo", code, "hls") + '"}],'
            'image:"/hoster/luluvdo/thumb.jpg",width:"100%",height:"100%",stretching:"uniform"});'
        )
        if link.variant == "packed":
            setup = obfuscation.pack_js(setup)
        self.send(200, render("embed_luluvdo.html", title=code, setup=setup))

    def loadx_embed(self, *, code: str, **_: Any) -> None:
        link = self._link("loadx", code)
        if link is None:
            return
        player = f'FirePlayer("{code}", {{"videoImage": "/player/poster.jpg", "autoplay": false}}, false);'
        if link.variant == "packed":
            player = obfuscation.pack_js(player)
        headers = {"Set-Cookie": f"fireplayer_player={code}; Path=/"}
        self.send(200, render("embed_loadx.html", title=code, player=player), headers=headers)

    def loadx_api(self, *, query: dict, **_: Any) -> None:
        code = (query.get("data") or [""])[0]
        link = self.site.catalog.link_by_code(code)
        form = parse_qs(self._body().decode("utf-8", errors="replace"))
        if self.headers.get("X-Requested-With") != "XMLHttpRequest" or (query.get("do") or [""])[0] != "getVideo":
            self.send_json(400, {"error": "bad request"})
        elif link is None or link.hoster != "LoadX" or (form.get("hash") or [""])[0] != code:
            self.send_json(404, {"error": "video not found"})
        else:
            self.send_json(200, {"hls": True, "videoSource": self.site.media_url("loadx", code, "hls")})

    def vidara_embed(self, *, code: str, **_: Any) -> None:
        if self._link("vidara", code) is not None:
            self.send(200, render("embed_vidara.html", title=code, code=code))

    def vidara_api(self, **_: Any) -> None:
        try:
            request = json.loads(self._body() or b"{}")
        except ValueError:
            request = None
        if not isinstance(request, dict) or request.get("device") != "web":
            self.send_json(400, {"error": "filecode and device required"})
            return
        link = self.site.catalog.link_by_code(str(request.get("filecode")))
        if link is None or link.hoster != "Vidara":
            self.send_json(404, {"error": "file not found"})
            return
        self.send_json(200, {"streaming_url": self.site.media_url("vidara", link.code, "hls")})

    def gupload_embed(self, *, code: str, **_: Any) -> None:
        link = self._link("gupload", code)
        if link is None:
            return
        if link.variant == "legacy":
            config = {"videoUrl": self.site.media_url("gupload", code, "file"), "videoId": code}
            script = f"var player = initPlayer(decodePayload('{obfuscation.gupload_legacy_payload(config)}'));"
        else:
            parts = ["G7#k", "P!2q", code[-4:], "mRwL"]
            config = {"videoUrl": self.site.media_url("gupload", code, "hls"), "posterUrl": "/poster.jpg"}
            script = (
                "var _k=(function(){var _p=[" + ",".join(f"'{part}'" for part in parts) + "];"
                "return _p[0]+_p[1]+_p[2]+_p[3];})();"
                f"var _cfg = _dp('{obfuscation.gupload_config(config, ''.join(parts))}');"
            )
        self.send(200, render("embed_gupload.html", title=code, script=script))

    # -- media ----------------------------------------------------------------------------
    def _referer_ok(self) -> bool:
        referer = self.headers.get("Referer") or ""
        return urlsplit(referer).netloc == self.site.allowed_host

    def _media_allowed(self, hoster: str, code: str, query: dict) -> bool:
        link = self.site.catalog.link_by_code(code)
        if link is None or HOSTER_PATHS[link.hoster] != hoster:
            self.not_found()
            return False
        if hoster in REFERER_REQUIRED and not self._referer_ok():
            self.send(403, "Forbidden: this file needs the Referer of its hoster")
            return False
        if hoster == "dood" and (query.get("token") or [""])[0] != link.token:
            self.send(403, "Forbidden: wrong token")
            return False
        return True

    def media_file(self, *, hoster: str, code: str, query: dict, **_: Any) -> None:
        if self._media_allowed(hoster, code, query):
            self._send_file(self.site.media().mp4, "video/mp4", f"{hoster}/{code}")

    def media_playlist(self, *, hoster: str, code: str, query: dict, **_: Any) -> None:
        if hoster not in HLS_HOSTERS:
            self.not_found()
            return
        if self._media_allowed(hoster, code, query):
            self.send(200, self.site.media().playlist.read_bytes(), "application/vnd.apple.mpegurl")

    def media_segment(self, *, hoster: str, code: str, segment: str, query: dict, **_: Any) -> None:
        path = self.site.media().segment(segment)
        if path is None or hoster not in HLS_HOSTERS:
            self.not_found()
            return
        if self._media_allowed(hoster, code, query):
            self._send_file(path, "video/mp2t", f"{hoster}/{code}")

    def _send_file(self, path: Path, content_type: str, media_key: str) -> None:
        size = path.stat().st_size
        start, end = 0, size - 1
        status = 200
        wanted = re.fullmatch(r"bytes=(\d*)-(\d*)", (self.headers.get("Range") or "").strip())
        if wanted and (wanted.group(1) or wanted.group(2)):
            if wanted.group(1):
                start = int(wanted.group(1))
                end = min(int(wanted.group(2)), size - 1) if wanted.group(2) else size - 1
            else:
                start = max(0, size - int(wanted.group(2)))
            if start >= size or start > end:
                self.send(416, "", headers={"Content-Range": f"bytes */{size}"})
                return
            status = 206
        length = end - start + 1
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if self.command == "HEAD":
            return
        scenarios = self.site.scenarios
        rate = scenarios.slow_bytes_per_second
        to_send = length // 2 if scenarios.truncate_media else length
        chunk_size = max(1, min(64 * 1024, rate // 20)) if rate else 64 * 1024
        with self.site.transfer(media_key), path.open("rb") as handle:
            handle.seek(start)
            remaining = to_send
            while remaining > 0:
                chunk = handle.read(min(chunk_size, remaining))
                if not chunk:
                    break
                if rate:
                    time.sleep(len(chunk) / rate)
                self.wfile.write(chunk)
                remaining -= len(chunk)
                with self.site.lock:
                    self.site.stats_data.bytes_served += len(chunk)
            self.wfile.flush()
        if scenarios.truncate_media:
            self.close_connection = True


def sto_token(link: FakeLink) -> str:
    """s.to's ``/r?t=`` token: a Laravel-encrypted payload (base64 JSON with iv, value, mac, tag), opaque to clients."""
    payload = {
        "iv": f"iv{link.link_id}",
        "value": base64.b64encode(link.token.encode()).decode(),
        "mac": "0" * 16,
        "tag": "",
    }
    return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def _highlight(title: str, wanted: str) -> str:
    """The search endpoint's title: HTML-escaped with the match in <em>."""
    index = title.casefold().find(wanted)
    if index < 0:
        return esc(title)
    end = index + len(wanted)
    return f"{esc(title[:index])}<em>{esc(title[index:end])}</em>{esc(title[end:])}"


def _routes() -> list[Route]:
    site = r"/(?P<prefix>aw|sto)"
    series = site + r"/(?:anime/stream|serie(?:/stream)?)/(?P<slug>[a-zA-Z0-9-]+)"
    h = _Handler
    table: list[tuple[str, str, Callable[..., None]]] = [
        ("POST", site + r"/ajax/search", h.search),
        ("GET", site + r"/ajax/seriesSearch", h.legacy_search),
        ("GET", series + r"/?", h.series_page),
        ("GET", series + r"/staffel-(?P<season>\d+)/?", h.series_page),
        ("GET", series + r"/filme/?", h.films_page),
        ("GET", series + r"/staffel-(?P<season>\d+)/episode-(?P<number>\d+)/?", h.episode_page),
        ("GET", series + r"/filme/film-(?P<number>\d+)/?", h.episode_page),
        ("GET", site + r"/public/img/cover/(?P<slug>[a-zA-Z0-9-]+)\.png", h.cover),
        ("GET", r"/aw/redirect/(?P<link_id>\d+)", h.catalog_redirect),
        ("GET", r"/sto/r", h.sto_redirect),
        ("GET", r"/sto/api/search/suggest", h.sto_suggest),
        ("GET", r"/sto/suche", h.sto_search_page),
        (
            "GET",
            r"/sto/media/images/channel/\w+/(?P<slug>[a-zA-Z0-9-]+?)-(?:lrd0j8zs|backdrop|og)",
            h.sto_channel_image,
        ),
        ("GET", r"/hoster/voe/e/(?P<code>\w+)", h.voe_embed),
        ("GET", r"/hoster/voe/mirror/e/(?P<code>\w+)", h.voe_mirror),
        ("GET", r"/hoster/dood/e/(?P<code>\w+)", h.dood_embed),
        ("GET", r"/pass_md5/(?P<code>\w+)-\d+/(?P<token>\w+)", h.dood_pass_md5),
        ("GET", r"/hoster/vidoza/embed-(?P<code>\w+)\.html", h.vidoza_embed),
        ("GET", r"/hoster/vidmoly/embed-(?P<code>\w+)\.html", h.vidmoly_embed),
        ("GET", r"/hoster/filemoon/e/(?P<code>\w+)", h.filemoon_embed),
        ("GET", r"/api/videos/(?P<code>\w+)", h.filemoon_api),
        ("GET", r"/hoster/streamtape/e/(?P<code>\w+)", h.streamtape_embed),
        ("GET", r"/get_video", h.streamtape_get_video),
        ("GET", r"/hoster/speedfiles/(?P<code>\w+)", h.speedfiles_embed),
        ("GET", r"/hoster/luluvdo/e/(?P<code>\w+)", h.luluvdo_embed),
        ("GET", r"/hoster/loadx/video/(?P<code>\w+)", h.loadx_embed),
        ("POST", r"/player/index\.php", h.loadx_api),
        ("GET", r"/hoster/vidara/e/(?P<code>\w+)", h.vidara_embed),
        ("POST", r"/api/stream", h.vidara_api),
        ("GET", r"/hoster/gupload/e/(?P<code>\w+)", h.gupload_embed),
        ("GET", r"/media/(?P<hoster>\w+)/(?P<code>\w+)/(?:video\.mp4|file-\w*)", h.media_file),
        ("GET", r"/media/(?P<hoster>\w+)/(?P<code>\w+)/hls/index\.m3u8", h.media_playlist),
        ("GET", r"/media/(?P<hoster>\w+)/(?P<code>\w+)/hls/(?P<segment>seg\d+\.ts)", h.media_segment),
    ]
    return [(method, re.compile(pattern), handler) for method, pattern, handler in table]


ROUTES = _routes()
