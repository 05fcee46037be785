"""Streamtape: the page assembles ``//host/get_video?id=…&token=…`` from two strings and ``substring`` calls."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from apps.catalog.resolvers.base import HosterSession, Resolver, Sample
from apps.catalog.types import MediaKind, MediaSource

LINK = re.compile(
    r"""getElementById\(\s*['"](?:robotlink|norobotlink|ideoooolink|botlink)['"]\s*\)\.innerHTML\s*=\s*"""
    r"""['"]([^'"]+)['"]\s*\+\s*\(?\s*['"]([^'"]+)['"]\s*\)?((?:\s*\.substring\(\s*\d+\s*\))*)"""
)
SUBSTRING = re.compile(r"\.substring\(\s*(\d+)\s*\)")


def assemble(first: str, second: str, substrings: str) -> str:
    for cut in SUBSTRING.findall(substrings):
        second = second[int(cut) :]
    return first + second


class StreamtapeResolver(Resolver):
    name = "Streamtape"
    domains = (
        "streamtape.com",
        "streamtape.net",
        "streamtape.to",
        "streamtape.xyz",
        "streamta.pe",
        "strtape.cloud",
        "strcloud.link",
        "shavetape.cash",
    )
    default_rank = 50
    samples = (Sample(MediaKind.FILE, note="robotlink assembled from two strings"),)

    def resolve(self, embed_url: str, session: HosterSession) -> MediaSource:
        page, text = session.page_text(embed_url, step="embed page")
        found = LINK.search(text)
        if found is None:
            raise session.error("embed page", "no robotlink script found (Streamtape changed its page?)")
        link = assemble(*found.groups())
        if link.startswith("//"):
            link = f"{urlsplit(page.url).scheme}:{link}"
        if "get_video" not in link:
            raise session.error("embed page", f"assembled link is not a get_video URL: {link[:80]}")
        separator = "&" if "?" in link else "?"
        return MediaSource(f"{link}{separator}stream=1", MediaKind.FILE, self.name, session.referer_headers(page.url))
