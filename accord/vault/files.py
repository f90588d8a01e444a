"""Small file-system helpers shared by the key store and the local blob store: private folders
and atomic, durable writes (temporary file in the same folder, fsync, link or rename, fsync the
folder), so a crash never leaves a half-written file under its real name."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

TEMPORARY_SUFFIX = ".tmp"


def private_folder(folder: Path) -> Path:
    """Create ``folder`` (owner-only) if it is missing, and make the creation durable."""
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        fsync_folder(folder.parent)
    return folder


def fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temporary_name(path: Path) -> Path:
    return path.parent / f".{path.name}.{secrets.token_hex(8)}{TEMPORARY_SUFFIX}"


def write_atomically(
    path: Path, pieces: Iterable[bytes | bytearray], *, replace: bool = False
) -> int:
    """Write ``pieces`` to ``path`` so that readers see either nothing or the whole file.

    Returns the number of bytes written. Unless ``replace``, an existing file is never replaced
    (``FileExistsError``). If writing fails part-way, the temporary file is removed.
    """
    private_folder(path.parent)
    temporary = temporary_name(path)
    written = 0
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            for piece in pieces:
                handle.write(piece)
                written += len(piece)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # fails if the name is taken: nothing is overwritten
        fsync_folder(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return written


def delete_durably(path: Path) -> bool:
    """Remove ``path`` if it exists and make the removal durable. True if it existed."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    fsync_folder(path.parent)
    return True
