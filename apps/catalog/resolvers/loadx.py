"""LoadX: a FirePlayer page; its player API answers the HLS playlist.

As read from the reference client (AniWorld-Downloader v3 ``loadx.py``; its
newest version disables the hoster) and Funami580/sdl's ``loadx.rs``: the embed
``https://loadx.ws/video/<hash>`` (or ``/e/<id>``) runs ``FirePlayer("<id>", …)``,
often inside a Dean Edwards packed script; ``POST {origin}/player/index.php?
data=<id>&do=getVideo`` (``X-Requested-With: XMLHttpRequest``, form body
``hash=<id>&r=``, the page's cookies) answers JSON whose ``videoSource`` is the
HLS playlist. The id is the last path segment when no FirePlayer call is found.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

from apps.catalog.http import origin
from apps.catalog.resolvers import packer
from apps.catalog.resolvers.base import HosterSession, Resolver, Sample
from apps.catalog.types import MediaKind, MediaSource

FIRE_PLAYER = re.compile(r"""FirePlayer\(\s*["']([A-Za-z0-9]+)["']""")


def player_id(text: str, embed_url: str) -> str | None:
    for script in [text, *packer.find_packed(text)]:
        found = FIRE_PLAYER.search(script)
        if found:
            return found.group(1)
    segment = urlsplit(embed_url).path.rstrip("/").rsplit("/", 1)[-1]
    return segment if re.fullmatch(r"[A-Za-z0-9]+", segment) else None


class LoadXResolver(Resolver):
    name = "LoadX"
    aliases = ("loadx.ws", "load x")
    domains = ("loadx.ws",)
    default_rank = 100
    samples = (
        Sample(MediaKind.HLS, variant="packed", note="FirePlayer id inside a packed script, then the player API"),
        Sample(MediaKind.HLS, note="FirePlayer id in a plain script"),
    )

    def resolve(self, embed_url: str, session: HosterSession) -> MediaSource:
        page, text = session.page_text(embed_url, step="embed page")
        try:
            video_id = player_id(text, page.url)
        except packer.UnpackError as exc:
            raise session.error("packed script", str(exc)) from exc
        if video_id is None:
            raise session.error("embed page", "no FirePlayer id found (LoadX changed its page?)")
        site = origin(page.url)
        answer = session.get(
            f"{site}/player/index.php?{urlencode({'data': video_id, 'do': 'getVideo'})}",
            step="player API",
            method="POST",
            data={"hash": video_id, "r": ""},
            headers={"X-Requested-With": "XMLHttpRequest", "Referer": page.url, "Origin": site},
        )
        try:
            data = answer.json()
        except ValueError as exc:
            raise session.error("player API", "the answer is not JSON") from exc
        url = data.get("videoSource") if isinstance(data, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise session.error("player API", "no videoSource in the answer (LoadX changed its API?)")
        kind = MediaKind.HLS if ".m3u8" in url else MediaKind.FILE
        return MediaSource(url, kind, self.name, {"Accept": "*/*"})
