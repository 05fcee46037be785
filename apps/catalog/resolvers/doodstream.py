"""Doodstream: ``/pass_md5/…`` answers the URL prefix; add 10 random characters, ``?token=…&expiry=<ms>``."""

from __future__ import annotations

import re
import secrets
import string
import time
from urllib.parse import urljoin

from apps.catalog.resolvers.base import HosterSession, Resolver, Sample
from apps.catalog.types import MediaKind, MediaSource

PASS_MD5 = re.compile(r"""['"](/pass_md5/[^'"]+)['"]""")
TOKEN = re.compile(r"""[?&]token=([A-Za-z0-9]+)""")
RANDOM_ALPHABET = string.ascii_letters + string.digits


def build_media_url(prefix: str, token: str, now_ms: int | None = None) -> str:
    suffix = "".join(secrets.choice(RANDOM_ALPHABET) for _ in range(10))
    expiry = now_ms if now_ms is not None else int(time.time() * 1000)
    return f"{prefix}{suffix}?token={token}&expiry={expiry}"


class DoodstreamResolver(Resolver):
    name = "Doodstream"
    aliases = ("dood", "doodstream.com", "dood stream")
    domains = (
        "doodstream.com",
        "dood.la",
        "dood.so",
        "dood.to",
        "dood.watch",
        "dood.pm",
        "dood.ws",
        "dood.sh",
        "dood.re",
        "dood.yt",
        "dood.wf",
        "dood.cx",
        "dood.li",
        "dood.work",
        "d0o0d.com",
        "d000d.com",
        "d0000d.com",
        "do0od.com",
        "dooood.com",
        "ds2play.com",
        "ds2video.com",
        "doods.pro",
        "vidply.com",
        "myvidplay.com",
    )
    # Doodstream rotates domains and token rules: tried last.
    default_rank = 60
    samples = (Sample(MediaKind.FILE, referer_required=True, note="/pass_md5/ prefix + token"),)

    def resolve(self, embed_url: str, session: HosterSession) -> MediaSource:
        embed_url = re.sub(r"/d/([A-Za-z0-9]+)", r"/e/\1", embed_url)  # download page -> player page
        page, text = session.page_text(embed_url, step="embed page")
        path = PASS_MD5.search(text)
        token = TOKEN.search(text)
        if path is None or token is None:
            raise session.error("embed page", "no /pass_md5/ path or token found (Doodstream changed its page?)")
        headers = {"Referer": page.url}
        answer = session.get(urljoin(page.url, path.group(1)), step="pass_md5", headers=headers)
        prefix = answer.text.strip()
        if not prefix.startswith(("http://", "https://")):
            raise session.error("pass_md5", f"expected a URL, got {prefix[:60]!r}")
        return MediaSource(
            build_media_url(prefix, token.group(1)), MediaKind.FILE, self.name, session.referer_headers(page.url)
        )
