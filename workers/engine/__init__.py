"""The download engine that runs on worker nodes: pure Python (yt-dlp + ffmpeg), no Django models."""

from workers.engine.engine import DownloadRequest, DownloadResult, download
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
from workers.engine.fetch import EngineOptions
from workers.engine.storage import discard_partial, incoming_dir, partial_bytes

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
