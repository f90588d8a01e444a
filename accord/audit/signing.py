"""The Ed25519 key that signs audit checkpoints.

The private key lives in ``settings.AUDIT_SIGNING_KEY_FILE`` (PEM, PKCS8, unencrypted). In the
demo a missing key is created on first use, readable by its owner only; in production the file
must already exist (settings refuse to start otherwise) and is never created here.

The key id is the first 16 hex characters of the SHA-256 of the raw 32-byte public key: it
names the key in checkpoints so a verifier can say "signed by another key" plainly. It is an
identifier, not a security check; signatures are always checked against a pinned public key.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

KEY_ID_LENGTH = 16
_MAX_KEY_FILE_BYTES = 64 * 1024


class SigningKeyError(Exception):
    """The signing key (or a public key given to check signatures) cannot be used."""


def key_path() -> Path:
    return Path(settings.AUDIT_SIGNING_KEY_FILE)


def private_key(*, create: bool | None = None) -> Ed25519PrivateKey:
    """The platform's signing key. ``create`` defaults to DEMO_MODE; production never creates."""
    path = key_path()
    may_create = bool(settings.DEMO_MODE) if create is None else create
    if may_create and not settings.DEMO_MODE:
        raise SigningKeyError("Accord never creates the audit signing key outside the demo.")
    if not path.exists():
        if not may_create:
            raise SigningKeyError(
                f"The audit signing key file {path} does not exist. In production, create an "
                "Ed25519 key (PEM, PKCS8) outside the data folder and point "
                "ACCORD_AUDIT_SIGNING_KEY_FILE at it."
            )
        _create_key_file(path)
    return _load_private_key(path)


def _load_private_key(path: Path) -> Ed25519PrivateKey:
    data = _read_small(path, what="audit signing key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError as exc:  # encrypted with a password
        raise SigningKeyError(
            f"The audit signing key file {path} is protected by a password; Accord needs an "
            "unencrypted PKCS8 PEM file kept readable by its owner only."
        ) from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(
            f"The audit signing key file {path} is not a PEM private key ({exc})."
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(
            f"The audit signing key file {path} holds a {type(key).__name__}, not an Ed25519 key."
        )
    return key


def _read_small(path: Path, *, what: str) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise SigningKeyError(f"Cannot read the {what} file {path}: {exc.strerror}.") from exc
    if len(data) > _MAX_KEY_FILE_BYTES:
        raise SigningKeyError(f"The {what} file {path} is far too large to be a key.")
    return data


def _create_key_file(path: Path) -> None:
    """Write a new key so that no reader ever sees a half-written file and no key is replaced.

    The key goes to a private temporary file (O_EXCL, 0600) which is then hard-linked to its
    name; linking fails if the name exists, so when two processes race, one key wins and both
    use it.
    """
    folder = path.parent
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
    pem = Ed25519PrivateKey.generate().private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    temporary = folder / f".{path.name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process won: use its key
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def public_key() -> Ed25519PublicKey:
    return private_key().public_key()


def public_key_pem(key: Ed25519PublicKey | None = None) -> bytes:
    """The platform's public key (or the given one) as a PEM SubjectPublicKeyInfo block."""
    return (key or public_key()).public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )


def load_public_key_pem(data: bytes, *, source: str = "the public key") -> Ed25519PublicKey:
    """An Ed25519 public key from PEM bytes, with a plain error for anything else."""
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(f"{source} is not a PEM public key.") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"{source} is a {type(key).__name__}, not an Ed25519 public key.")
    return key


def load_public_key_file(path: str | Path) -> Ed25519PublicKey:
    path = Path(path)
    return load_public_key_pem(
        _read_small(path, what="public key"), source=f"The public key file {path}"
    )


def key_id(key: Ed25519PublicKey | None = None) -> str:
    """Hex SHA-256 of the raw public key (first 16 characters); the platform's key by default."""
    raw = (key or public_key()).public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )
    return hashlib.sha256(raw).hexdigest()[:KEY_ID_LENGTH]


def sign(data: bytes) -> bytes:
    return private_key().sign(data)
