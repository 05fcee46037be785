"""The master-password rule and secret redaction in logs."""

from __future__ import annotations

import logging

import pytest

from aniworld_site.logging import RedactSecretsFilter, redact
from apps.accounts.passwords import password_problems


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1!A", "at least 12 characters"),
        ("alllowercaseletters", "three of"),
        ("aaaaaaaaaaaaA1!", "different characters"),
        ("password1234", "too common"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password, reason):
    problems = password_problems(password)
    assert problems
    assert any(reason in p for p in problems)


@pytest.mark.parametrize("password", ["Correct-Horse-42!", "mein Anime Archiv 2024", "Zz9!Yy8@Xx7#"])
def test_strong_passwords_pass(password):
    assert password_problems(password) == []


@pytest.mark.parametrize(
    "message",
    [
        'login {"password": "Hunter2-Secret!"}',
        "password=Hunter2-Secret!",
        "Authorization: Bearer abc.def.ghi",
        "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl issued",
    ],
)
def test_secrets_are_redacted(message):
    cleaned = redact(message)
    assert "Hunter2-Secret!" not in cleaned
    assert "abc.def.ghi" not in cleaned
    assert "c2lnbmF0dXJl" not in cleaned
    assert "[redacted]" in cleaned


def test_filter_rewrites_formatted_records():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "setup with password=%s", ("S3cret-Value!",), None)
    RedactSecretsFilter().filter(record)
    assert "S3cret-Value!" not in record.getMessage()
