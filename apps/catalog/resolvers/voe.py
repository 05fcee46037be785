"""VOE: the JSON payload chain, and the older base64 ``'hls'`` form behind a ``window.location.href`` hop.

Newer pages carry ``<script type="application/json">["…"]</script>``; the one
string decodes as ROT13 → remove junk tokens → base64 → shift every character
by -3 → reverse → base64 → JSON object with ``source`` (HLS). Older pages first
send the browser elsewhere with ``window.location.href = '…'`` (a mirror domain,
any public host) and then hold ``'hls': '<base64 URL>'``.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
import re
from typing import Any

from apps.catalog.resolvers.base import HosterSession, Resolver, Sample
from apps.catalog.types import MediaKind, MediaSource

JUNK_TOKENS = ("@$", "^^", "~@", "%?", "*~", "!!", "#&")
JSON_SCRIPT = re.compile(r"<script[^>]*type=[\"']application/json[\"'][^>]*>(.*?)</script>", re.DOTALL | re.I)
LEGACY_SOURCE = re.compile(r"""['"](hls|mp4)['"]\s*:\s*['"]([^'"]+)['"]""")
LOCATION_HOP = re.compile(r"""window\.location\.href\s*=\s*['"](https?://[^'"]+)['"]""")
MAX_HOPS = 2


def _b64decode(value: str) -> bytes:
    value = value.strip()
    return base64.b64decode(value + "=" * (-len(value) % 4), validate=False)


def decode_payload(encoded: str) -> dict[str, Any]:
    """Decode the one-string JSON payload; ValueError when the chain does not apply."""
    text = codecs.decode(encoded, "rot13")
    for junk in JUNK_TOKENS:
        text = text.replace(junk, "")
    try:
        shifted = "".join(chr(ord(ch) - 3) for ch in _b64decode(text).decode("latin-1"))
        decoded = json.loads(_b64decode(shifted[::-1]).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the payload does not decode ({type(exc).__name__})") from exc
    if not isinstance(decoded, dict):
        raise ValueError("the payload is not a JSON object")
    return decoded


def payload_from_page(text: str) -> dict[str, Any] | None:
    for script in JSON_SCRIPT.findall(text):
        try:
            data = json.loads(script)
        except json.JSONDecodeError:
            continue
        if isinstance(data, list) and len(data) == 1 and isinstance(data[0], str):
            return decode_payload(data[0])
    return None


def legacy_source(text: str) -> tuple[str, MediaKind] | None:
    for kind_name, value in LEGACY_SOURCE.findall(text):
        url = value
        if not value.startswith("http"):
            try:
                url = _b64decode(value).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                continue
        if url.startswith(("http://", "https://")):
            return url, MediaKind.HLS if kind_name == "hls" else MediaKind.FILE
    return None


class VoeResolver(Resolver):
    name = "VOE"
    aliases = ("voe.sx", "voesx")
    domains = ("voe.sx", "voe.to", "voe-network.net", "voeunblock.com", "voeunblk.com", "voe-unblock.com")
    # VOE changes its obfuscation most often.
    default_rank = 30
    samples = (
        Sample(MediaKind.HLS, referer_required=True, note="JSON payload chain"),
        Sample(MediaKind.HLS, variant="legacy", referer_required=True, note="'hls' behind a window.location hop"),
    )

    def resolve(self, embed_url: str, session: HosterSession) -> MediaSource:
        page, text = session.page_text(embed_url, step="embed page")
        for _hop in range(MAX_HOPS + 1):
            try:
                payload = payload_from_page(text)
            except ValueError as exc:
                raise session.error("JSON payload", str(exc)) from exc
            headers = session.referer_headers(page.url)
            if payload is not None:
                if payload.get("source"):
                    return MediaSource(str(payload["source"]), MediaKind.HLS, self.name, headers)
                if payload.get("direct_access_url"):
                    return MediaSource(str(payload["direct_access_url"]), MediaKind.FILE, self.name, headers)
                raise session.error("JSON payload", "decoded, but it has neither 'source' nor 'direct_access_url'")
            legacy = legacy_source(text)
            if legacy is not None:
                return MediaSource(legacy[0], legacy[1], self.name, headers)
            hop = LOCATION_HOP.search(text)
            if hop is None:
                break
            # VOE sends visitors to ever-changing mirror domains: any public host, same page shape.
            page, text = session.page_text(hop.group(1), step="mirror redirect", any_public_host=True)
        raise session.error("embed page", "found neither the JSON payload nor an 'hls' source (VOE changed its page?)")
