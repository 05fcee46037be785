"""SpeedFiles: the MP4 URL hides in a script variable behind a base64/hex chain.

As read from the reference client (AniWorld-Downloader's ``speedfiles.py``) and
checked on a real page sample (Funami580/sdl's test): the page has one inline
script with several ``var _0x5opuNNN = "…";`` decoys and the payload (so far
always ``_0x5opu234``; any base64 assignment is tried, as sdl does). Decoding:
base64 → swap case → reverse → base64 → reverse → hex pairs to characters →
shift every character by -3 → swap case → reverse → base64 → the media URL
(``https://…speedfiles.net/store_access/<id>?token=…``). "Web server is down"
on the page means the hoster is down, not a changed page.
"""

from __future__ import annotations

import base64
import binascii
import re

from apps.catalog.resolvers.base import HosterSession, Resolver, Sample
from apps.catalog.types import MediaKind, MediaSource

KNOWN_VARIABLE = re.compile(r"""var\s+_0x5opu234\s*=\s*["']([^"']+)["']""")
ANY_BASE64_VARIABLE = re.compile(r"""(?:var|let|const)\s+\w+\s*=\s*["']([A-Za-z0-9+/]{16,}={0,2})["']""")
SERVER_DOWN = "web server is down"


def _b64(value: str) -> str:
    return base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode("utf-8")


def decode_payload(encoded: str) -> str:
    """The media URL in ``encoded``; ValueError when the chain does not apply."""
    try:
        text = _b64(encoded).swapcase()[::-1]
        text = _b64(text)[::-1]
        text = bytes.fromhex(text).decode("latin-1")
        text = "".join(chr(ord(char) - 3) for char in text)
        url = _b64(text.swapcase()[::-1])
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"the payload does not decode ({type(exc).__name__})") from exc
    if not url.startswith(("http://", "https://")):
        raise ValueError("the payload does not decode to a URL")
    return url


def media_url_from_page(text: str) -> str | None:
    candidates = [*KNOWN_VARIABLE.findall(text), *ANY_BASE64_VARIABLE.findall(text)]
    for candidate in dict.fromkeys(candidates):
        try:
            return decode_payload(candidate)
        except ValueError:
            continue
    return None


class SpeedFilesResolver(Resolver):
    name = "SpeedFiles"
    aliases = ("speedfiles.net", "speed files")
    domains = ("speedfiles.net",)
    default_rank = 70
    samples = (Sample(MediaKind.FILE, referer_required=True, note="_0x5opu234 base64/hex chain among decoys"),)

    def resolve(self, embed_url: str, session: HosterSession) -> MediaSource:
        page, text = session.page_text(embed_url, step="embed page")
        if SERVER_DOWN in text.lower():
            raise session.error("embed page", "SpeedFiles says its web server is down")
        url = media_url_from_page(text)
        if url is None:
            raise session.error(
                "embed page", "no script variable decodes to a media URL (SpeedFiles changed its page?)"
            )
        return MediaSource(url, MediaKind.FILE, self.name, session.referer_headers(page.url))
