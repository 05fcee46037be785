"""Dean Edwards' JavaScript packer (``eval(function(p,a,c,k,e,d){…}(…))``): find and unpack.

The packed call carries a payload in which every word is an index (written in
base ``a``) into a symbol table; unpacking replaces each word by its symbol.
"""

from __future__ import annotations

import re

PACKED_CALL = re.compile(
    r"}\s*\(\s*'(?P<payload>(?:[^'\\]|\\.)*)'\s*,\s*(?P<radix>\d+)\s*,\s*(?P<count>\d+)\s*,\s*"
    r"'(?P<symbols>(?:[^'\\]|\\.)*)'\s*\.split\(\s*'\|'\s*\)",
    re.DOTALL,
)
PACKED_MARKER = re.compile(r"eval\(function\(p,a,c,k,e,[dr]\)")
ALPHABET_62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
WORD = re.compile(r"\b\w+\b")


class UnpackError(ValueError):
    pass


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def unbase(word: str, radix: int) -> int:
    if radix <= 36:
        return int(word, radix)
    if radix > 62:
        raise UnpackError(f"packer radix {radix} is not supported")
    value = 0
    for char in word:
        digit = ALPHABET_62.find(char)
        if digit < 0 or digit >= radix:
            raise UnpackError(f"{word!r} is not a base-{radix} number")
        value = value * radix + digit
    return value


def to_base(number: int, radix: int) -> str:
    """The packer's number encoding (used by the fake site to pack pages)."""
    if number == 0:
        return "0"
    digits = []
    while number:
        number, rest = divmod(number, radix)
        digits.append(ALPHABET_62[rest])
    return "".join(reversed(digits))


def find_packed(text: str) -> list[str]:
    """Every packed script in ``text``, unpacked."""
    if not PACKED_MARKER.search(text):
        return []
    return [unpack_match(match) for match in PACKED_CALL.finditer(text)]


def unpack_match(match: re.Match[str]) -> str:
    payload = _unescape(match.group("payload"))
    radix = int(match.group("radix"))
    count = int(match.group("count"))
    symbols = _unescape(match.group("symbols")).split("|")
    if count != len(symbols):
        raise UnpackError(f"packer symbol table has {len(symbols)} entries, expected {count}")

    def replace(word_match: re.Match[str]) -> str:
        word = word_match.group(0)
        try:
            index = unbase(word, radix)
        except (UnpackError, ValueError):
            return word
        if index < len(symbols) and symbols[index]:
            return symbols[index]
        return word

    return WORD.sub(replace, payload)


def unpack(text: str) -> str:
    match = PACKED_CALL.search(text)
    if match is None:
        raise UnpackError("no packed script (eval(function(p,a,c,k,e,d)…)) found")
    return unpack_match(match)
