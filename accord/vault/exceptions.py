"""What can go wrong in the vault, each in words a person can act on.

``VaultIntegrityError`` and its subclasses mean the stored data (or its key) is not what was
stored: never a reason to retry quietly, always a reason to investigate. Configuration problems
are ``ImproperlyConfigured``, as elsewhere in Accord.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ImproperlyConfigured


class VaultError(Exception):
    """Something about a vault object stops it being read or written."""

    def __init__(self, message: str, *, object_id: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.object_id = object_id


class VaultConfigurationError(ImproperlyConfigured):
    """The master key, key store or blob store is not set up as Accord needs."""


class ObjectNotFound(VaultError):
    """No vault object has this id."""


class CertificateNotFound(VaultError):
    """No deletion certificate for this object concerns the organisation asking."""

    def __init__(self, object_id: str) -> None:
        super().__init__(
            f"There is no deletion certificate for {object_id} that concerns your organisation.",
            object_id=object_id,
        )


class ObjectDeleted(VaultError):
    """The object was crypto-shredded: its key is destroyed and its data cannot come back."""

    def __init__(self, message: str, *, object_id: str, deleted_at: datetime, reason: str) -> None:
        super().__init__(message, object_id=object_id)
        self.deleted_at = deleted_at
        self.reason = reason


class VaultIntegrityError(VaultError):
    """The stored object, or its key, is not what was stored. Do not use any data read so far."""


class ChunkTampered(VaultIntegrityError):
    """A chunk failed its authentication check: a byte was changed or damaged."""


class ChunkOutOfPlace(VaultIntegrityError):
    """A chunk is genuine but sits at the wrong position: chunks were swapped or reordered."""


class ObjectTruncated(VaultIntegrityError):
    """The stored object ends before its final chunk."""


class ObjectExtended(VaultIntegrityError):
    """Data was added after the object's final chunk."""


class ChecksumMismatch(VaultIntegrityError):
    """The decrypted data does not have the SHA-256 (or size) recorded when it was stored."""


class WrongMasterKey(VaultIntegrityError):
    """The data key was wrapped under a different master key from the one configured."""


class KeyFileMissing(VaultIntegrityError):
    """The object's wrapped data key is not in the key store."""


class KeyFileDamaged(VaultIntegrityError):
    """The key file exists but cannot be read or unwrapped with the configured master key."""
