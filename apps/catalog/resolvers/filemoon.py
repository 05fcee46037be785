"""Filemoon: the playback API with an AES-256-GCM payload, and the older packed-JS page.

API: ``GET /api/videos/{code}`` answers ``{"playback": {"algorithm": "AES-256-GCM",
"iv", "payload", "key_parts": [...]}}`` (base64url); the key is the joined key
parts, the payload is ciphertext plus tag, and the plaintext is JSON with
``sources`` (``url``, ``height``) — we take the highest. When the API does not
answer usefully, the embed page's Dean Edwards packed script holds ``file:"…m3u8"``
(possibly inside an iframe on another Filemoon domain).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import urljoin

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from apps.catalog.http import origin
from apps.catalog.resolvers import packer
from apps.catalog.resolvers.base import HosterSession, Resolver, Sample
from apps.catalog.types import HosterError, MediaKind, MediaSource

CODE = re.compile(r"/(?:e|d|download)/([A-Za-z0-9]+)")
IFRAME = re.compile(r"""<iframe[^>]+src=["']([^"']+)["']""", re.I)
M3U8_FILE = re.compile(r"""file\s*:\s*["']([^"']+\.m3u8[^"']*)["']""")


def b64url_decode(value: str) -> bytes:
    value = value.strip()
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def decrypt_playback(playback: dict[str, Any]) -> dict[str, Any]:
    """Decrypt the API's ``playback`` object; ValueError when it is not what we know."""
    algorithm = str(playback.get("algorithm", "AES-256-GCM")).upper()
    if algorithm != "AES-256-GCM":
        raise ValueError(f"unknown playback algorithm {algorithm!r}")
    try:
        key = b"".join(b64url_decode(part) for part in playback["key_parts"])
        iv = b64url_decode(playback["iv"])
        payload = b64url_decode(playback["payload"])
    except (KeyError, TypeError, binascii.Error) as exc:
        raise ValueError(f"playback object incomplete ({exc})") from exc
    if len(key) != 32:
        raise ValueError(f"key parts give a {len(key) * 8}-bit key, expected 256")
    try:
        plain = AESGCM(key).decrypt(iv, payload, None)
    except (InvalidTag, ValueError) as exc:
        raise ValueError("the payload does not decrypt with the given key parts") from exc
    data = json.loads(plain.decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("decrypted playback is not a JSON object")
    return data


def best_source(data: dict[str, Any]) -> tuple[str, int | None]:
    sources = [s for s in data.get("sources") or [] if isinstance(s, dict) and s.get("url")]
    if not sources:
        raise ValueError("decrypted playback has no sources")
    best = max(sources, key=lambda s: int(s.get("height") or 0))
    height = int(best["height"]) if best.get("height") else None
    return str(best["url"]), height


class FilemoonResolver(Resolver):
    name = "Filemoon"
    aliases = ("filemoon.sx",)
    domains = (
        "filemoon.sx",
        "filemoon.to",
        "filemoon.in",
        "filemoon.eu",
        "filemoon.nl",
        "filemoon.wf",
        "filemoon.art",
        "filemoon.link",
        "kerapoxy.cc",
        "moonmov.pro",
        "bysebuho.com",
    )
    default_rank = 40
    samples = (
        Sample(MediaKind.HLS, height=144, note="playback API, AES-256-GCM payload"),
        Sample(MediaKind.HLS, variant="packed", note="Dean Edwards packed player script"),
    )

    def resolve(self, embed_url: str, session: HosterSession) -> MediaSource:
        code = CODE.search(embed_url)
        if code is None:
            raise session.error("embed URL", f"no video code in {embed_url}")
        try:
            return self._from_api(embed_url, code.group(1), session)
        except HosterError as api_error:
            try:
                return self._from_packed_page(embed_url, session)
            except HosterError as page_error:
                raise session.error("API and packed page", f"{api_error}; then {page_error}") from page_error

    def _from_api(self, embed_url: str, code: str, session: HosterSession) -> MediaSource:
        api_url = f"{origin(embed_url)}/api/videos/{code}"
        page = session.get(api_url, step="playback API", headers={"Referer": embed_url, "Accept": "application/json"})
        try:
            data = page.json()
            playback = data.get("playback") if isinstance(data, dict) else None
            if not isinstance(playback, dict):
                raise ValueError("no 'playback' object in the answer")
            url, height = best_source(decrypt_playback(playback))
        except ValueError as exc:
            raise session.error("playback API", str(exc)) from exc
        kind = MediaKind.HLS if ".m3u8" in url else MediaKind.FILE
        return MediaSource(url, kind, self.name, session.referer_headers(embed_url), height)

    def _from_packed_page(self, embed_url: str, session: HosterSession) -> MediaSource:
        page, text = session.page_text(embed_url, step="embed page")
        scripts = self._unpacked(text, session)
        if not scripts:
            iframe = IFRAME.search(text)
            if iframe is None:
                raise session.error("embed page", "no packed script and no player iframe")
            page, text = session.page_text(
                urljoin(page.url, iframe.group(1)), step="player iframe", headers={"Referer": page.url}
            )
            scripts = self._unpacked(text, session)
        for script in scripts:
            found = M3U8_FILE.search(script)
            if found:
                return MediaSource(found.group(1), MediaKind.HLS, self.name, session.referer_headers(page.url))
        raise session.error("packed script", 'unpacked, but no file:"…m3u8" inside')

    @staticmethod
    def _unpacked(text: str, session: HosterSession) -> list[str]:
        try:
            return packer.find_packed(text)
        except packer.UnpackError as exc:
            raise session.error("packed script", str(exc)) from exc
