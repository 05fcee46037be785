"""GUpload: the player configuration is XOR-encrypted with a key split into parts on the page.

As read from the reference client (AniWorld-Downloader's ``gupload.py`` and its
test): the key is the concatenation of ``var _p = ['…', '…']``; the
configuration ``var _cfg = _dp('<prefix>~<base64>')`` is base64 after the
``~``, XOR-ed byte-wise with the repeating key, and JSON with ``videoUrl``.
An older page form (a CloudStream extractor) calls ``decodePayload('<base64>')``:
the decoded text after the first ``|`` is JSON with ``videoUrl`` (slashes escaped).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from apps.catalog.resolvers.base import HosterSession, Resolver, Sample
from apps.catalog.types import MediaKind, MediaSource

KEY_PARTS = re.compile(r"var\s+_p\s*=\s*\[(?P<parts>(?:\s*'[^']+'\s*,?)+)\]")
PART = re.compile(r"'([^']+)'")
CONFIG = re.compile(r"var\s+_cfg\s*=\s*_dp\('(?P<config>[^']+)'\)")
LEGACY_PAYLOAD = re.compile(r"decodePayload\('(?P<payload>[A-Za-z0-9+/=]+)'\)")


def _b64(value: str) -> bytes:
    return base64.b64decode(value + "=" * (-len(value) % 4), validate=True)


def decode_config(config: str, key: str) -> dict[str, Any]:
    """The player configuration; ValueError when it does not decode with ``key``."""
    _prefix, _tilde, encoded = config.partition("~")
    try:
        cipher = _b64(encoded or config)
        secret = key.encode("utf-8")
        plain = bytes(byte ^ secret[index % len(secret)] for index, byte in enumerate(cipher))
        data = json.loads(plain.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, ZeroDivisionError) as exc:
        raise ValueError(f"the configuration does not decode ({type(exc).__name__})") from exc
    if not isinstance(data, dict):
        raise ValueError("the configuration is not a JSON object")
    return data


def decode_legacy(payload: str) -> dict[str, Any]:
    try:
        text = _b64(payload).decode("utf-8")
        data = json.loads(text.split("|", 1)[1].replace("\\/", "/"))
    except (binascii.Error, UnicodeDecodeError, IndexError, json.JSONDecodeError) as exc:
        raise ValueError(f"the payload does not decode ({type(exc).__name__})") from exc
    if not isinstance(data, dict):
        raise ValueError("the payload is not a JSON object")
    return data


def configuration_from_page(text: str) -> dict[str, Any] | None:
    parts, config = KEY_PARTS.search(text), CONFIG.search(text)
    if parts and config:
        return decode_config(config.group("config"), "".join(PART.findall(parts.group("parts"))))
    legacy = LEGACY_PAYLOAD.search(text)
    return decode_legacy(legacy.group("payload")) if legacy else None


class GUploadResolver(Resolver):
    name = "GUpload"
    aliases = ("gupload.xyz",)
    domains = ("gupload.xyz",)
    default_rank = 110
    samples = (
        Sample(MediaKind.HLS, note="_dp('…~base64') XOR the joined _p key parts"),
        Sample(MediaKind.FILE, variant="legacy", note="decodePayload('base64') with JSON after '|'"),
    )

    def resolve(self, embed_url: str, session: HosterSession) -> MediaSource:
        page, text = session.page_text(embed_url, step="embed page")
        try:
            config = configuration_from_page(text)
        except ValueError as exc:
            raise session.error("player configuration", str(exc)) from exc
        if config is None:
            raise session.error("embed page", "no _dp(…) configuration or decodePayload(…) found (GUpload changed?)")
        url = config.get("videoUrl")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise session.error("player configuration", "decoded, but without a videoUrl")
        kind = MediaKind.HLS if ".m3u8" in url else MediaKind.FILE
        return MediaSource(url, kind, self.name, session.referer_headers(page.url))
