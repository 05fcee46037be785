"""The hosters' obfuscations, run forwards: the fake site encodes what the resolvers decode.

Each function is the inverse of a decoder in ``apps.catalog.resolvers``; the
resolver tests check the round trip, and the fake site serves pages built
with them.
"""

from __future__ import annotations

import base64
import codecs
import json
import os
import re
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from apps.catalog.resolvers.packer import to_base
from apps.catalog.resolvers.voe import JUNK_TOKENS


def voe_encode_payload(obj: dict[str, Any]) -> str:
    """JSON -> base64 -> reverse -> shift +3 -> base64 -> junk tokens sprinkled in -> ROT13."""
    inner = base64.b64encode(json.dumps(obj).encode("utf-8")).decode("ascii")
    shifted = "".join(chr(ord(ch) + 3) for ch in inner[::-1])
    outer = base64.b64encode(shifted.encode("latin-1")).decode("ascii")
    pieces, step = [], max(7, len(outer) // len(JUNK_TOKENS))
    for index in range(0, len(outer), step):
        pieces.append(outer[index : index + step])
        pieces.append(JUNK_TOKENS[(index // step) % len(JUNK_TOKENS)])
    return codecs.encode("".join(pieces), "rot13")


def voe_legacy_value(url: str) -> str:
    return base64.b64encode(url.encode("utf-8")).decode("ascii")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def filemoon_playback(obj: dict[str, Any]) -> dict[str, Any]:
    """AES-256-GCM encrypt ``obj`` the way Filemoon's playback API delivers it."""
    key, iv = os.urandom(32), os.urandom(12)
    payload = AESGCM(key).encrypt(iv, json.dumps(obj).encode("utf-8"), None)
    return {
        "algorithm": "AES-256-GCM",
        "iv": _b64url(iv),
        "payload": _b64url(payload),
        "key_parts": [_b64url(key[:16]), _b64url(key[16:])],
    }


def pack_js(source: str, radix: int = 62) -> str:
    """Dean Edwards-style packing: every word becomes its index in a symbol table."""
    words = list(dict.fromkeys(re.findall(r"\b\w+\b", source)))
    index = {word: to_base(position, radix) for position, word in enumerate(words)}
    payload = re.sub(r"\b\w+\b", lambda m: index[m.group(0)], source)
    payload = payload.replace("\\", "\\\\").replace("'", "\\'")
    symbols = "|".join(words)
    return (
        "eval(function(p,a,c,k,e,d){e=function(c){return(c<a?'':e(parseInt(c/a)))+((c=c%a)>35?"
        "String.fromCharCode(c+29):c.toString(36))};if(!''.replace(/^/,String)){while(c--){d[e(c)]=k[c]||e(c)}"
        "k=[function(e){return d[e]}];e=function(){return'\\\\w+'};c=1};while(c--){if(k[c]){p=p.replace("
        "new RegExp('\\\\b'+e(c)+'\\\\b','g'),k[c])}}return p}"
        f"('{payload}',{radix},{len(words)},'{symbols}'.split('|'),0,{{}}))"
    )


def streamtape_script(link_without_token: str, token: str) -> str:
    """The robotlink assignment: the token hides behind junk that ``substring`` calls cut off."""
    return (
        f"document.getElementById('robotlink').innerHTML = '{link_without_token}' + "
        f"('xyz{token}').substring(1).substring(2);"
    )


def speedfiles_encode(url: str) -> str:
    """base64 -> reverse -> swap case -> shift +3 -> hex -> reverse -> base64 -> reverse -> swap case -> base64."""
    step = base64.b64encode(url.encode("utf-8")).decode("ascii")[::-1].swapcase()
    step = "".join(chr(ord(char) + 3) for char in step).encode("latin-1").hex()
    step = base64.b64encode(step[::-1].encode("ascii")).decode("ascii")[::-1].swapcase()
    return base64.b64encode(step.encode("ascii")).decode("ascii")


def gupload_config(obj: dict[str, Any], key: str) -> str:
    """The ``_dp('…')`` argument: JSON XOR the repeating key, base64, after a ``~``."""
    plain, secret = json.dumps(obj).encode("utf-8"), key.encode("utf-8")
    cipher = bytes(byte ^ secret[index % len(secret)] for index, byte in enumerate(plain))
    return "gx~" + base64.b64encode(cipher).decode("ascii")


def gupload_legacy_payload(obj: dict[str, Any]) -> str:
    """The older ``decodePayload('…')`` argument: base64 of ``<id>|<JSON with escaped slashes>``."""
    return base64.b64encode(("v1|" + json.dumps(obj).replace("/", "\\/")).encode("utf-8")).decode("ascii")
