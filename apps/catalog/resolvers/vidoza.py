"""Vidoza: the player script lists ``sourcesCode: [{ src: "…mp4", res: "720" }]`` (or a ``<source>`` tag)."""

from __future__ import annotations

import re

from apps.catalog.resolvers.base import HosterSession, Resolver, Sample
from apps.catalog.types import MediaKind, MediaSource

SOURCES_CODE = re.compile(r"sourcesCode\s*:\s*\[(.*?)\]", re.DOTALL)
SOURCE_ENTRY = re.compile(r"\{[^{}]*\}", re.DOTALL)
SRC = re.compile(r"""src\s*:\s*["']([^"']+)["']""")
RES = re.compile(r"""res\s*:\s*["']?(\d{3,4})""")
SOURCE_TAG = re.compile(r"""<source[^>]+src=["']([^"']+\.mp4[^"']*)["']""", re.I)


class VidozaResolver(Resolver):
    name = "Vidoza"
    domains = ("vidoza.net", "vidoza.co", "vidoza.org", "videzz.net")
    # A plain MP4 with its height: the simplest extraction, tried first.
    default_rank = 10
    samples = (Sample(MediaKind.FILE, height=144, note="sourcesCode with src and res"),)

    def resolve(self, embed_url: str, session: HosterSession) -> MediaSource:
        page, text = session.page_text(embed_url, step="embed page")
        candidates: list[tuple[int, str]] = []
        block = SOURCES_CODE.search(text)
        if block:
            for entry in SOURCE_ENTRY.findall(block.group(1)):
                src = SRC.search(entry)
                if src:
                    res = RES.search(entry)
                    candidates.append((int(res.group(1)) if res else 0, src.group(1)))
        if not candidates:
            candidates = [(0, url) for url in SOURCE_TAG.findall(text)]
        if not candidates:
            raise session.error("embed page", "no sourcesCode src or <source> tag found (Vidoza changed its page?)")
        height, url = max(candidates)
        return MediaSource(url, MediaKind.FILE, self.name, session.referer_headers(page.url), height or None)
