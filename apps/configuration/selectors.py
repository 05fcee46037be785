"""Read access to the owner's settings. The configuration issue backs these with the database."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def library_root() -> Path:
    """The library directory every node mounts (until configured: ANIWORLD_LIBRARY_DIR or <data>/library)."""
    return Path(settings.DEFAULT_LIBRARY_DIR)
