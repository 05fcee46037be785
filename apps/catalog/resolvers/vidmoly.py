"""Vidmoly: the player setup has ``file:"https://…m3u8"``; segments need the Referer of its domain."""

from __future__ import annotations

import re

from apps.catalog.resolvers.base import HosterSession, Resolver, Sample
from apps.catalog.types import MediaKind, MediaSource

FILE = re.compile(r"""file\s*:\s*["'](https?://[^"']+)["']""")


class VidmolyResolver(Resolver):
    name = "Vidmoly"
    domains = ("vidmoly.to", "vidmoly.me", "vidmoly.net", "vidmoly.biz")
    default_rank = 20
    samples = (Sample(MediaKind.HLS, referer_required=True, note='jwplayer setup with file:"…m3u8"'),)

    def resolve(self, embed_url: str, session: HosterSession) -> MediaSource:
        page, text = session.page_text(embed_url, step="embed page")
        files = FILE.findall(text)
        if not files:
            raise session.error("embed page", 'no file:"…" source found (Vidmoly changed its page?)')
        hls = [url for url in files if ".m3u8" in url]
        url = (hls or files)[0]
        kind = MediaKind.HLS if ".m3u8" in url else MediaKind.FILE
        return MediaSource(url, kind, self.name, session.referer_headers(page.url))
