"""The download engine that runs on worker nodes: pure Python (yt-dlp + ffmpeg), nothing from Django.

Importing the package (or its ``errors``, ``storage`` and ``ffmpeg`` modules,
which the queue and the settings check use) does not load yt-dlp: ``download``,
``DownloadRequest``, ``DownloadResult`` and ``EngineOptions`` load it on first
use, so web processes never do (see docs/architecture.md, "Module layers").
"""

from __future__ import annotations

import importlib
from typing import Any

from workers.engine.errors import (
    Cancelled,
    EngineError,
    Failure,
    FailureKind,
    InsufficientSpace,
    PermanentDownloadError,
    TargetConflict,
    TargetExists,
    TransientDownloadError,
    TruncatedDownload,
    classify,
)
from workers.engine.storage import discard_partial, incoming_dir, partial_bytes

_LOADS_YT_DLP = {
    "DownloadRequest": "workers.engine.engine",
    "DownloadResult": "workers.engine.engine",
    "download": "workers.engine.engine",
    "EngineOptions": "workers.engine.fetch",
}


def __getattr__(name: str) -> Any:
    if name in _LOADS_YT_DLP:
        return getattr(importlib.import_module(_LOADS_YT_DLP[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Cancelled",
    "DownloadRequest",
    "DownloadResult",
    "EngineError",
    "EngineOptions",
    "Failure",
    "FailureKind",
    "InsufficientSpace",
    "PermanentDownloadError",
    "TargetConflict",
    "TargetExists",
    "TransientDownloadError",
    "TruncatedDownload",
    "classify",
    "discard_partial",
    "download",
    "incoming_dir",
    "partial_bytes",
]
