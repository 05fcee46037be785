"""One cluster-wide lock for "only one of these at a time" jobs (library scans, scheduled checks).

A Redis ``SET NX`` with expiry through Django's cache, holding a random token:
only the holder renews or releases it, so a run that outlived its expiry cannot
free the lock of the run that came after it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.cache import cache


class LockHeld(Exception):
    """Someone else holds the lock."""


@contextmanager
def cluster_lock(key: str, seconds: float, owner: str = "") -> Iterator[Callable[[], None]]:
    """Hold ``key`` for at most ``seconds`` (raises :class:`LockHeld`); yields a function that renews it."""
    token = f"{owner or key}:{uuid.uuid4().hex}"
    if not cache.add(key, token, timeout=seconds):
        raise LockHeld(key)

    def renew() -> None:
        if cache.get(key) == token:
            cache.touch(key, seconds)

    try:
        yield renew
    finally:
        if cache.get(key) == token:
            cache.delete(key)


def is_locked(key: str) -> bool:
    return cache.get(key) is not None
