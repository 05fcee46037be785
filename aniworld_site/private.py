"""The data directory holds the database (session keys, the password hash), the secret key, logs and the
embedded Redis: only the service user may read it. Files are created 0600 and directories 0700, and
whatever an older version left readable is tightened at start-up of every process.

No process-wide umask: workers also write the library, which media servers running as other users must
read.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
PASSABLE_DIR_MODE = 0o711  # others may pass through (to a library inside) but not list or read


def _chmod(path: Path, mode: int) -> None:
    # Missing: nothing to protect. Not ours (a volume mounted by another user): its owner decides.
    with contextlib.suppress(FileNotFoundError, PermissionError):
        os.chmod(path, mode)


def private_dir(path: Path, mode: int = PRIVATE_DIR_MODE) -> Path:
    """Create ``path`` (and parents) if needed and give it ``mode``."""
    path.mkdir(mode=mode, parents=True, exist_ok=True)
    _chmod(path, mode)
    return path


def open_private(path: Path | str, flags: int) -> int:
    """``os.open`` that creates ``path`` 0600 and tightens it if it already existed."""
    fd = os.open(path, flags | os.O_CREAT, PRIVATE_FILE_MODE)
    os.fchmod(fd, PRIVATE_FILE_MODE)
    return fd


def write_private_text(path: Path, text: str) -> None:
    """Write ``path`` afresh, 0600 (never through a link or a file someone else left there)."""
    path.unlink(missing_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE), "w") as handle:
        handle.write(text)


def make_private(path: Path) -> None:
    """0600 for a file that exists (missing files are left alone)."""
    _chmod(path, PRIVATE_FILE_MODE)


def secure_data_dir(
    data_dir: Path, private_dirs: list[Path], private_files: list[Path], *, holds_library: bool
) -> None:
    """Tighten the data directory: itself, the given subdirectories and every file in them, the given files.

    Only files we know are touched at the top level: the data directory may be a folder with other things in
    it. A data directory that holds the library stays passable (0711) so a media server can reach the library.
    """
    private_dir(data_dir, PASSABLE_DIR_MODE if holds_library else PRIVATE_DIR_MODE)
    for directory in private_dirs:
        private_dir(directory)
        for entry in os.scandir(directory):
            if entry.is_file(follow_symlinks=False):
                make_private(Path(entry.path))
    for file in private_files:
        make_private(file)


def private_sqlite_file(path: Path) -> None:
    """Create the SQLite database file 0600 before SQLite does (its -wal and -shm files copy that mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(open_private(path, os.O_RDWR))
    for suffix in ("-wal", "-shm", "-journal"):
        make_private(path.with_name(path.name + suffix))
