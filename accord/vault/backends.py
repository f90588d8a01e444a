"""Where encrypted blobs live. The vault only ever hands a backend ciphertext.

``Backend`` is the whole interface a store must offer; ``LocalBackend`` keeps blobs under
``ACCORD_VAULT_DIR``. An S3-compatible backend fits the same shape later: ``write`` becomes a
multipart upload (visible only when completed, so still atomic), ``open`` a streaming GET,
``delete`` a DELETE. Blob keys are plain text (``<object id>.v<version>``), safe as S3 keys.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from .files import TEMPORARY_SUFFIX, delete_durably, private_folder, write_atomically

_KEY = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.v[0-9]+$")


class BlobNotFound(Exception):
    """The backend holds no blob under this key."""


class Backend(abc.ABC):
    """A store of whole, immutable blobs."""

    @abc.abstractmethod
    def write(self, key: str, pieces: Iterable[bytes]) -> int:
        """Store ``pieces`` under ``key`` atomically: until this returns, no reader sees the
        blob; if it raises, nothing is left behind. Never replaces an existing blob. Returns
        the number of bytes stored."""

    @abc.abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A readable stream of the blob (raises ``BlobNotFound``). The caller closes it."""

    @abc.abstractmethod
    def delete(self, key: str) -> bool:
        """Delete the blob; True if it existed. Deleting a missing blob is not an error."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool: ...


def _checked(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError(f"Not a vault blob key: {key!r}")
    return key


class LocalBackend(Backend):
    """Blobs as files under one folder, spread over 256 subfolders by the id's first two
    characters. Writes go to a temporary file in the target folder, are fsynced, linked into
    place and the folder fsynced, so a crash never leaves a half-written blob under its name."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, key: str) -> Path:
        key = _checked(key)
        return self.root / key[:2] / key

    def write(self, key: str, pieces: Iterable[bytes]) -> int:
        private_folder(self.root)
        return write_atomically(self.path_for(key), pieces)

    def open(self, key: str) -> BinaryIO:
        try:
            return self.path_for(key).open("rb")
        except FileNotFoundError as exc:
            raise BlobNotFound(key) from exc

    def delete(self, key: str) -> bool:
        return delete_durably(self.path_for(key))

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def leftovers(self) -> list[Path]:
        """Temporary files a killed process left behind (never visible as blobs)."""
        if not self.root.is_dir():
            return []
        return sorted(self.root.glob(f"*/.*{TEMPORARY_SUFFIX}"))


def default_backend() -> Backend:
    return LocalBackend(Path(settings.VAULT_DIR))
