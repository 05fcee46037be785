"""Files of a download on the library volume: partials in ``<library>/.incoming``, space checks, the final move."""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from pathlib import Path

from workers.engine.errors import InsufficientSpace

INCOMING_DIR_NAME = ".incoming"


def incoming_dir(library_root: Path) -> Path:
    """Where partial downloads live: on the library volume, so the final rename is atomic."""
    path = Path(library_root) / INCOMING_DIR_NAME
    path.mkdir(parents=True, exist_ok=True)
    return path


def download_name(incoming: Path, item_id: int | str) -> Path:
    """The name yt-dlp completes into; while it runs the data is in ``<item-id>.part`` (and ``.ytdl`` for HLS)."""
    return incoming / str(item_id)


def partial_files(incoming: Path, item_id: int | str) -> list[Path]:
    stem = str(item_id)
    files = [path for path in incoming.glob(f"{stem}.*") if path.is_file() or path.is_symlink()]
    bare = incoming / stem
    if bare.is_file():
        files.append(bare)
    return files


def partial_bytes(incoming: Path, item_id: int | str) -> int:
    """Bytes already on disk for this item (what a resumed attempt does not fetch again)."""
    total = 0
    for path in partial_files(incoming, item_id):
        try:
            if path.is_file() and not path.name.endswith(".ytdl"):
                total += path.stat().st_size
        except OSError:
            continue
    return total


def discard_partial(incoming: Path, item_id: int | str) -> None:
    for path in partial_files(incoming, item_id):
        path.unlink(missing_ok=True)


def human_bytes(value: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def free_bytes(directory: Path) -> int:
    return shutil.disk_usage(directory).free


def ensure_free_space(directory: Path, needed: int) -> None:
    """Fail before starting when the volume cannot hold ``needed`` more bytes."""
    available = free_bytes(directory)
    if needed > available:
        raise InsufficientSpace(
            f"Not enough free space on the library volume: this episode needs about {human_bytes(needed)}, "
            f"only {human_bytes(available)} is free."
        )


def move_into_place(source: Path, target: Path, *, replace: bool = True) -> None:
    """Move ``source`` to ``target`` atomically (a same-filesystem rename; a copy-then-rename across mounts).

    With ``replace=False`` an existing ``target`` is never touched: :class:`FileExistsError`. The check and
    the move are one step (a hard link, which fails if the name exists), so two downloads racing for one
    name cannot overwrite each other; shares without hard links get an exclusive create instead.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if not replace:
        _move_no_clobber(source, target)
        return
    try:
        os.replace(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        staging = _copy_beside(source, target)
        try:
            os.replace(staging, target)
        finally:
            staging.unlink(missing_ok=True)
        source.unlink(missing_ok=True)


def _copy_beside(source: Path, target: Path) -> Path:
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    shutil.copyfile(source, staging)
    return staging


_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS}


def _move_no_clobber(source: Path, target: Path) -> None:
    staging: Path | None = None
    try:
        try:
            os.link(source, target)
        except OSError as exc:
            if exc.errno == errno.EXDEV:
                staging = _copy_beside(source, target)
                _link_or_reserve(staging, target)
            elif exc.errno in _NO_HARD_LINKS:
                _reserve_and_replace(source, target)
                return
            else:
                raise
    finally:
        if staging is not None:
            staging.unlink(missing_ok=True)
    source.unlink(missing_ok=True)


def _link_or_reserve(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        _reserve_and_replace(source, target)


def _reserve_and_replace(source: Path, target: Path) -> None:
    """Claim the name with an exclusive create (fails if it exists), then rename the file over the claim."""
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    try:
        os.replace(source, target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
