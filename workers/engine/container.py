"""Which container a downloaded file is, and tagging an MP4's language in place.

A hoster's MP4 or Matroska file is kept as it arrived: rewriting it (a remux)
would be a second full pass over the file for nothing. Only what media servers
handle poorly (MPEG-TS from HLS, anything unknown) is remuxed into Matroska.

The language of a kept MP4 is written into each audio/subtitle track's ``mdhd``
box, a fixed-size field, so the file is patched in place (a few bytes written,
nothing moved). A kept Matroska file is not tagged: its Language element can
only be changed in place where the muxer left room, and rewriting it is
exactly the pass this avoids.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

MP4 = "mp4"
MATROSKA = "mkv"
WEBM = "webm"
MPEG_TS = "ts"

# Containers kept as they arrived; everything else is remuxed into Matroska.
KEPT = {MP4, MATROSKA, WEBM}

SNIFF_BYTES = 4096
_TS_PACKET = 188
_ISO_BMFF_TYPES = {b"ftyp", b"styp", b"moov", b"mdat", b"free", b"skip", b"wide"}
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"

# ISO 639-2/T codes (what MP4 stores) of each catalog language's audio and subtitle tracks.
MP4_AUDIO_LANGUAGE = {"de": "deu", "de-sub": "jpn", "en-sub": "jpn", "en": "eng"}
MP4_SUBTITLE_LANGUAGE = {"de-sub": "deu", "en-sub": "eng"}
_SUBTITLE_HANDLERS = {b"sbtl", b"subt", b"text"}


def sniff(head: bytes) -> str | None:
    """The container of a file from its first bytes: ``mp4``, ``mkv``, ``webm``, ``ts`` or None (unknown)."""
    if head.startswith(_EBML_MAGIC):
        return WEBM if b"webm" in head[:64] else MATROSKA
    if len(head) >= 8 and head[4:8] in _ISO_BMFF_TYPES:
        return MP4
    packets = [head[offset] for offset in range(0, min(len(head), 3 * _TS_PACKET), _TS_PACKET)]
    if len(packets) >= 2 and all(byte == 0x47 for byte in packets):
        return MPEG_TS
    return None


def sniff_file(path: Path) -> str | None:
    with open(path, "rb") as stream:
        return sniff(stream.read(SNIFF_BYTES))


def extension_after(container: str | None) -> str:
    """The extension the final file gets: the container's when it is kept, Matroska after a remux."""
    return container if container in KEPT else MATROSKA


def _boxes(stream: BinaryIO, start: int, end: int):
    """(type, payload start, box end) of each ISO BMFF box between ``start`` and ``end``."""
    offset = start
    while offset + 8 <= end:
        stream.seek(offset)
        header = stream.read(8)
        if len(header) < 8:
            return
        size, kind = struct.unpack(">I4s", header)
        payload = offset + 8
        if size == 1:
            (size,) = struct.unpack(">Q", stream.read(8))
            payload += 8
        elif size == 0:
            size = end - offset
        if size < payload - offset or offset + size > end:
            return
        yield kind, payload, offset + size
        offset += size


def _pack_language(code: str) -> bytes:
    value = 0
    for char in code:
        value = (value << 5) | (ord(char) - 0x60)
    return struct.pack(">H", value)


def tag_mp4_language(path: Path, language: str | None) -> int:
    """Write the catalog ``language`` into each audio (and subtitle) track's ``mdhd`` in place.

    Returns how many tracks were tagged; 0 when the language is unknown or the
    file has no such track. Nothing but the two language bytes is written.
    """
    audio = MP4_AUDIO_LANGUAGE.get(language or "")
    subtitle = MP4_SUBTITLE_LANGUAGE.get(language or "")
    if not audio and not subtitle:
        return 0
    tagged = 0
    with open(path, "r+b") as stream:
        stream.seek(0, 2)
        file_end = stream.tell()
        for kind, payload, end in _boxes(stream, 0, file_end):
            if kind != b"moov":
                continue
            for track, track_payload, track_end in _boxes(stream, payload, end):
                if track != b"trak":
                    continue
                for media, media_payload, media_end in _boxes(stream, track_payload, track_end):
                    if media == b"mdia":
                        tagged += _tag_media(stream, media_payload, media_end, audio, subtitle)
    return tagged


def _tag_media(stream: BinaryIO, start: int, end: int, audio: str | None, subtitle: str | None) -> int:
    handler = None
    language_offset = None
    for kind, payload, _box_end in _boxes(stream, start, end):
        if kind == b"hdlr":
            stream.seek(payload + 8)  # version/flags, pre_defined
            handler = stream.read(4)
        elif kind == b"mdhd":
            stream.seek(payload)
            version = stream.read(1)[0]
            language_offset = payload + (4 + 8 + 8 + 4 + 8 if version == 1 else 4 + 4 + 4 + 4 + 4)
    code = audio if handler == b"soun" else subtitle if handler in _SUBTITLE_HANDLERS else None
    if not code or language_offset is None:
        return 0
    stream.seek(language_offset)
    stream.write(_pack_language(code))
    return 1


def _read_vint(stream: BinaryIO, keep_marker: bool) -> tuple[int, int] | None:
    """An EBML variable-length integer: (value, width in bytes)."""
    first = stream.read(1)
    if not first:
        return None
    width = 9 - first[0].bit_length()
    if width > 8:
        return None
    value = first[0] if keep_marker else first[0] & (0xFF >> width)
    rest = stream.read(width - 1)
    if len(rest) < width - 1:
        return None
    for byte in rest:
        value = (value << 8) | byte
    return value, width


_EBML_HEADER_ID = 0x1A45DFA3
_SEGMENT_ID = 0x18538067


def is_complete(path: Path, container: str | None) -> bool:
    """Whether a kept file is structurally whole (a prefix of a file often still probes fine).

    MP4: the top-level boxes end exactly at the end of the file. Matroska: the
    Segment (when its size is written) fits in the file. Other containers: True.
    """
    size = path.stat().st_size
    with open(path, "rb") as stream:
        if container == MP4:
            end = 0
            for _kind, _payload, box_end in _boxes(stream, 0, size):
                end = box_end
            return end == size
        if container in (MATROSKA, WEBM):
            for expected_id in (_EBML_HEADER_ID, _SEGMENT_ID):
                element = _read_vint(stream, keep_marker=True)
                length = _read_vint(stream, keep_marker=False)
                if element is None or element[0] != expected_id or length is None:
                    return False
                value, width = length
                if expected_id == _SEGMENT_ID:
                    unknown_size = value == (1 << (7 * width)) - 1
                    return unknown_size or stream.tell() + value <= size
                stream.seek(value, 1)
    return True
