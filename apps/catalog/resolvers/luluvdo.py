"""Luluvdo / LuluStream: an XFileSharing JWPlayer page with ``sources: [{file:"…m3u8"}]``, sometimes packed.

As read from the reference client (AniWorld-Downloader v3 ``luluvdo.py``; its
newest version disables the hoster) and resolveurl's ``LuluStreamResolver``:
the embed ``https://luluvdo.com/e/<code>`` is fetched with a fixed mobile
Firefox User-Agent and the host as ``Origin``/``Referer``; the same headers
must be sent with the playlist and segments ("needs to be the same as the
direct-link ones to work"). The player setup may sit inside a Dean Edwards
packed script.
"""

from __future__ import annotations

import re

from apps.catalog.http import origin
from apps.catalog.resolvers import packer
from apps.catalog.resolvers.base import HosterSession, Resolver, Sample
from apps.catalog.types import MediaKind, MediaSource

USER_AGENT = "Mozilla/5.0 (Android 15; Mobile; rv:132.0) Gecko/132.0 Firefox/132.0"
SOURCES_FILE = re.compile(r"""sources\s*:\s*\[\s*\{\s*file\s*:\s*["']([^"']+)["']""")
ANY_FILE = re.compile(r"""file\s*:\s*["'](https?://[^"']+)["']""")


def source_from(scripts: list[str]) -> str | None:
    for pattern in (SOURCES_FILE, ANY_FILE):
        for script in scripts:
            found = pattern.search(script)
            if found:
                return found.group(1)
    return None


class LuluvdoResolver(Resolver):
    name = "Luluvdo"
    aliases = ("lulustream", "lulu stream", "luluvdo.com")
    domains = (
        "luluvdo.com",
        "lulustream.com",
        "luluvid.com",
        "lulu.st",
        "luluvdoo.com",
        "luluvdo.net",
        "luluvdo.org",
        "luluview.com",
    )
    default_rank = 90
    samples = (
        Sample(MediaKind.HLS, referer_required=True, note="jwplayer sources with file"),
        Sample(MediaKind.HLS, variant="packed", referer_required=True, note="the setup inside a packed script"),
    )

    def resolve(self, embed_url: str, session: HosterSession) -> MediaSource:
        site = origin(embed_url)
        headers = {"User-Agent": USER_AGENT, "Origin": site, "Referer": f"{site}/"}
        page, text = session.page_text(embed_url, step="embed page", headers=headers)
        try:
            scripts = [text, *packer.find_packed(text)]
        except packer.UnpackError as exc:
            raise session.error("packed script", str(exc)) from exc
        url = source_from(scripts)
        if url is None:
            raise session.error("embed page", 'no sources: [{file:"…"}] found (Luluvdo changed its page?)')
        kind = MediaKind.HLS if ".m3u8" in url else MediaKind.FILE
        media_origin = origin(page.url)
        return MediaSource(
            url, kind, self.name, {"User-Agent": USER_AGENT, "Origin": media_origin, "Referer": f"{media_origin}/"}
        )
