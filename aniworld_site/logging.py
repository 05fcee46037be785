"""Logging helpers: keep passwords and tokens out of every log file."""

from __future__ import annotations

import logging
import logging.handlers
import os
import re

_SECRET_PATTERNS = [
    # "password": "...", password=..., 'token': '...'
    re.compile(
        r"""(?P<key>["']?(?:password|passwd|secret|token|access_token|refresh|authorization|api_key|apikey)["']?"""
        r"""\s*[:=]\s*)(?P<quote>["']?)(?P<value>(?:Bearer\s+)?[^"'\s,}&]+)""",
        re.IGNORECASE,
    ),
    re.compile(r"(?P<key>Bearer\s+)(?P<quote>)(?P<value>[A-Za-z0-9\-_.=]+)", re.IGNORECASE),
    # JWTs anywhere: three base64url parts starting with eyJ
    re.compile(r"(?P<key>)(?P<quote>)(?P<value>eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)"),
]


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: f"{m.group('key')}{m.group('quote')}[redacted]", text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Rewrites each record's final message with secrets replaced by ``[redacted]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not drop the record
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file that only the service user can read (0600), the rotated ones too."""

    def _open(self):
        from aniworld_site.private import open_private

        fd = open_private(self.baseFilename, os.O_WRONLY | os.O_APPEND)
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)
