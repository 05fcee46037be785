"""Vidara: a player API answers the HLS playlist for the file code.

As read from the reference client (AniWorld-Downloader's ``vidara.py``): load the
embed page (``https://vidara.so/e/<code>`` or ``/v/<code>``; cookies are kept),
then ``POST {origin}/api/stream`` with the JSON ``{"filecode": "<code>", "device":
"web"}`` (``Origin`` and ``Referer`` of the embed) → ``{"streaming_url": "…m3u8"}``.
Playback wants the ``Referer`` of the embed host.
"""

from __future__ import annotations

import json
import re

from apps.catalog.http import origin
from apps.catalog.resolvers.base import HosterSession, Resolver, Sample
from apps.catalog.types import MediaKind, MediaSource

CODE = re.compile(r"/(?:e|v)/([A-Za-z0-9]+)/?(?:[?#]|$)")


class VidaraResolver(Resolver):
    name = "Vidara"
    aliases = ("vidara.to", "vidara.so")
    domains = ("vidara.to", "vidara.so")
    default_rank = 80
    samples = (Sample(MediaKind.HLS, referer_required=True, note="POST /api/stream with the file code"),)

    def resolve(self, embed_url: str, session: HosterSession) -> MediaSource:
        code = CODE.search(embed_url)
        if code is None:
            raise session.error("embed URL", f"no file code in {embed_url}")
        page, _text = session.page_text(embed_url, step="embed page")
        site = origin(page.url)
        answer = session.get(
            f"{site}/api/stream",
            step="stream API",
            method="POST",
            data=json.dumps({"filecode": code.group(1), "device": "web"}),
            headers={"Content-Type": "application/json", "Origin": site, "Referer": page.url},
        )
        try:
            data = answer.json()
        except ValueError as exc:
            raise session.error("stream API", "the answer is not JSON") from exc
        url = data.get("streaming_url") if isinstance(data, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise session.error("stream API", "no streaming_url in the answer (Vidara changed its API?)")
        return MediaSource(url, MediaKind.HLS, self.name, session.referer_headers(page.url))
