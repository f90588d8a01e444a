"""The master key and the key store.

- The **master key** (32 random bytes) comes from ``ACCORD_MASTER_KEY`` (base64) or from the
  file ``ACCORD_MASTER_KEY_FILE`` (the same base64 text). In the demo, when neither is set, one
  is created at ``DATA_DIR/keys/vault-master.key`` (folder 0700, file 0600). It never enters
  the database; production refuses a key file inside the data folder, the blob store or the
  key store (see the settings and ``checks.py``).
- The **key store** is a folder apart from the database and the blobs holding one file per
  object: that object's data key wrapped with AES-256-GCM under the master key. The associated
  data binds the wrapped key to its object and version, so key files cannot be swapped between
  objects. Each file names the master key it was wrapped under (``master_key_id``), so rotation
  can re-wrap later without touching the data.
- The **key ring** lets a rotation happen while Accord runs: a key file is unwrapped with
  whichever configured master key its ``master_key_id`` names — the current one, or one of the
  previous keys listed in ``ACCORD_MASTER_KEY_PREVIOUS_FILES`` (see ``previous_master_keys``).
  New key files are always wrapped under the current key. ``rewrap_key_file`` re-wraps one file
  in place atomically, so a rotation can be interrupted at any moment and every file is either
  still old-wrapped or already new-wrapped, never half of each.
- Destroying an object's key file is what crypto-shredding means here: without it the blob is
  noise. (On journalling and copy-on-write file systems and SSDs, unlinking is what we can do;
  the guarantee rests on the key store not being backed up with the blobs.)
- **Pseudonymisation keys** (one per agreement, see ``accord.access.transform``) are kept, wrapped
  the same way, in the key store's own sub-folder ``pseudonym/`` (``pseudonymisation_keys_dir``).
  They belong to no vault object, so the orphan sweep, which removes top-level key files without
  a ``VaultObject`` row, never looks there; rotation re-wraps them with the rest
  (``key_files``); backups leave them out, as every key. Their files say
  ``"purpose": "pseudonymisation"`` and their wrapping's associated data names that purpose, so
  a pseudonymisation key can never be read as an object's data key, nor the other way round.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from .enums import DATA_KEY_BYTES, NONCE_BYTES
from .exceptions import KeyFileDamaged, KeyFileMissing, VaultConfigurationError, WrongMasterKey
from .files import delete_durably, fsync_folder, private_folder, temporary_name, write_atomically

MASTER_KEY_BYTES = 32
DEMO_MASTER_KEY_NAME = "vault-master.key"
PREVIOUS_FILES_VARIABLE = "ACCORD_MASTER_KEY_PREVIOUS_FILES"
KEY_FILE_SUFFIX = ".key"
KEY_FILE_FORMAT = 1
# The key store's sub-folder for pseudonymisation keys, and the purpose their files name.
PSEUDONYMISATION_FOLDER = "pseudonym"
PSEUDONYMISATION = "pseudonymisation"
DATA_KEY = "vault-data-key"  # the purpose of a file that names none: an object's data key
_MAX_KEY_FILE_BYTES = 4096


@dataclass(frozen=True, repr=False)
class MasterKey:
    """The master key and its id. The id names the key; it reveals nothing about it."""

    key: bytes

    @property
    def id(self) -> str:
        return master_key_id(self.key)

    def __repr__(self) -> str:  # never print the key itself
        return f"MasterKey(id={self.id!r})"


def master_key_id(key: bytes) -> str:
    return hashlib.sha256(b"accord-vault-master-key-id:" + key).hexdigest()[:16]


def _decode(text: str, *, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise VaultConfigurationError(
            f"The vault master key in {where} is not valid base64. Generate one with: "
            'python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())"'
        ) from exc
    if len(key) != MASTER_KEY_BYTES:
        raise VaultConfigurationError(
            f"The vault master key in {where} is {len(key)} bytes; it must be exactly "
            f"{MASTER_KEY_BYTES} random bytes, base64-encoded."
        )
    return key


def demo_master_key_path() -> Path:
    return Path(settings.KEYS_DIR) / DEMO_MASTER_KEY_NAME


def master_key() -> MasterKey:
    """The configured master key. Raises ``VaultConfigurationError`` when there is none."""
    inline = str(getattr(settings, "VAULT_MASTER_KEY", "") or "")
    path_setting = getattr(settings, "VAULT_MASTER_KEY_FILE", None)
    if inline and path_setting:
        raise VaultConfigurationError(
            "Set either ACCORD_MASTER_KEY or ACCORD_MASTER_KEY_FILE for the vault, not both."
        )
    if inline:
        return MasterKey(_decode(inline, where="ACCORD_MASTER_KEY"))
    if path_setting:
        return MasterKey(_read_key_file(Path(path_setting)))
    if not settings.DEMO_MODE:
        raise VaultConfigurationError(
            "Production needs a vault master key: set ACCORD_MASTER_KEY (base64 of 32 random "
            "bytes) or ACCORD_MASTER_KEY_FILE (a file kept outside ACCORD_DATA_DIR)."
        )
    path = demo_master_key_path()
    if not path.exists():
        _create_demo_key(path)
    return MasterKey(_read_key_file(path))


def _read_key_file(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise VaultConfigurationError(
            f"Cannot read the vault master key file {path}: {exc.strerror}."
        ) from exc
    if len(data) > _MAX_KEY_FILE_BYTES:
        raise VaultConfigurationError(f"The vault master key file {path} is too large.")
    return _decode(data.decode("ascii", errors="replace"), where=f"the file {path}")


def read_master_key_file(path: Path) -> MasterKey:
    """The master key in the file ``path`` (base64 text of 32 random bytes)."""
    return MasterKey(_read_key_file(path))


def previous_master_keys() -> list[MasterKey]:
    """Master keys that may still be needed to *read* key files, never to write them.

    They come from the environment variable ``ACCORD_MASTER_KEY_PREVIOUS_FILES``: key file paths
    separated by ``os.pathsep`` (":" on Linux), each holding a master key that earlier wrapped
    data keys. (It is read here rather than in the settings; a setting
    ``VAULT_MASTER_KEY_PREVIOUS_FILES``, a list of paths, takes precedence if one is added.)
    List the old key here while ``accord vault rotate-master-key`` re-wraps the key store, and
    remove it once the rotation reports nothing left to do. As for the current key file,
    production refuses a previous key file inside the data folder, the blob store or the key
    store.
    """
    configured = getattr(settings, "VAULT_MASTER_KEY_PREVIOUS_FILES", None)
    if configured is None:
        text = os.environ.get(PREVIOUS_FILES_VARIABLE, "")
        configured = [part for part in text.split(os.pathsep) if part.strip()]
    paths = [Path(str(part).strip()).resolve() for part in configured]
    if not settings.DEMO_MODE:
        for path in paths:
            _refuse_inside_data(path)
    return [read_master_key_file(path) for path in paths]


def _refuse_inside_data(path: Path) -> None:
    folders = [getattr(settings, name, None) for name in ("DATA_DIR", "VAULT_DIR")]
    folders.append(getattr(settings, "VAULT_KEYSTORE_DIR", None))
    for folder in folders:
        if folder and path.is_relative_to(Path(folder).resolve()):
            raise VaultConfigurationError(
                f"{PREVIOUS_FILES_VARIABLE} lists {path}, which is inside {folder}: master key "
                "files must be kept outside ACCORD_DATA_DIR, the blob store and the key store."
            )


def key_ring() -> dict[str, MasterKey]:
    """Every master key Accord may read with, by id: the current one first, then previous ones."""
    ring = {(current := master_key()).id: current}
    for key in previous_master_keys():
        ring.setdefault(key.id, key)
    return ring


def _create_demo_key(path: Path) -> None:
    """A new demo master key, written so that no reader sees half a file and, when two
    processes race, one key wins and both use it (as the audit signing key is made)."""
    folder = path.parent
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
    text = base64.b64encode(secrets.token_bytes(MASTER_KEY_BYTES)) + b"\n"
    temporary = temporary_name(path)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process won: use its key
            os.link(temporary, path)
        fsync_folder(folder)
    finally:
        temporary.unlink(missing_ok=True)


# The key store --------------------------------------------------------------------------------


def keystore_dir() -> Path:
    folder = getattr(settings, "VAULT_KEYSTORE_DIR", None)
    if not folder:
        raise VaultConfigurationError(
            "Production needs ACCORD_VAULT_KEYSTORE_DIR: a folder outside ACCORD_DATA_DIR and "
            "the blob store, so no data or object backup holds the vault's keys."
        )
    return Path(folder)


def key_path(object_id: uuid.UUID | str) -> Path:
    return keystore_dir() / f"{uuid.UUID(str(object_id))}{KEY_FILE_SUFFIX}"


def pseudonymisation_keys_dir() -> Path:
    """The key store's sub-folder for pseudonymisation keys, which the orphan sweep never
    touches (they have no ``VaultObject`` row) and rotation re-wraps."""
    return keystore_dir() / PSEUDONYMISATION_FOLDER


def pseudonymisation_key_path(key_id: uuid.UUID | str) -> Path:
    return pseudonymisation_keys_dir() / f"{uuid.UUID(str(key_id))}{KEY_FILE_SUFFIX}"


def _wrap_aad(object_id: uuid.UUID, version: int, purpose: str = DATA_KEY) -> bytes:
    if purpose == DATA_KEY:
        return f"accord-vault-data-key:v1:{object_id}:{version}".encode()
    if purpose == PSEUDONYMISATION:
        return f"accord-pseudonymisation-key:v1:{object_id}:{version}".encode()
    raise ValueError(f"Unknown key purpose {purpose!r}.")


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=DATA_KEY_BYTES * 8)


def _store(path: Path, key_id: uuid.UUID, version: int, key: bytes, purpose: str) -> Path:
    master = master_key()
    nonce = secrets.token_bytes(NONCE_BYTES)
    wrapped = AESGCM(master.key).encrypt(nonce, key, _wrap_aad(key_id, version, purpose))
    document: dict[str, object] = {
        "format": KEY_FILE_FORMAT,
        "object_id": str(key_id),
        "version": version,
        "algorithm": "AES-256-GCM",
        "master_key_id": master.id,
        "nonce": base64.b64encode(nonce).decode(),
        "wrapped_key": base64.b64encode(wrapped).decode(),
    }
    if purpose != DATA_KEY:
        document["purpose"] = purpose
    private_folder(keystore_dir())
    private_folder(path.parent)
    write_atomically(path, [json.dumps(document, sort_keys=True).encode()])
    return path


def store_data_key(object_id: uuid.UUID, version: int, data_key: bytes) -> Path:
    """Wrap ``data_key`` under the master key and write it to the key store (never replacing
    an existing key file). Returns the key file's path."""
    return _store(key_path(object_id), object_id, version, data_key, DATA_KEY)


def store_pseudonymisation_key(key_id: uuid.UUID, version: int, key: bytes) -> Path:
    """Wrap a pseudonymisation key under the master key and write it to the key store's
    ``pseudonym/`` folder (never replacing an existing key file). Returns its path."""
    return _store(pseudonymisation_key_path(key_id), key_id, version, key, PSEUDONYMISATION)


def load_data_key(object_id: uuid.UUID, version: int) -> bytes:
    """Read and unwrap the object's data key, or raise a specific error saying what is wrong."""
    return _load(
        key_path(object_id), object_id, version, DATA_KEY, f"the key for vault object {object_id}"
    )


def load_pseudonymisation_key(key_id: uuid.UUID, version: int) -> bytes:
    """Read and unwrap a pseudonymisation key, or raise a specific error saying what is wrong
    (``KeyFileMissing`` when there is none yet)."""
    return _load(
        pseudonymisation_key_path(key_id),
        key_id,
        version,
        PSEUDONYMISATION,
        f"the pseudonymisation key {key_id}",
    )


def _load(path: Path, key_id: uuid.UUID, version: int, purpose: str, what: str) -> bytes:
    """Read and unwrap the key file ``path``; ``what`` names the key in messages."""
    subject = what[:1].upper() + what[1:]
    owner = "vault object" if purpose == DATA_KEY else "pseudonymisation key"
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise KeyFileMissing(
            f"{subject} is missing from the key store ({path}), so its data cannot be decrypted. "
            "If it was not deliberately deleted, restore the key store from its own backup.",
            object_id=str(key_id),
        ) from exc
    try:
        document = json.loads(raw)
        nonce = base64.b64decode(document["nonce"], validate=True)
        wrapped = base64.b64decode(document["wrapped_key"], validate=True)
        stored_master_id = str(document["master_key_id"])
        stored_object = str(document["object_id"])
        stored_purpose = str(document.get("purpose", DATA_KEY))
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise KeyFileDamaged(
            f"The key file for {owner} {key_id} ({path}) is damaged and cannot be read.",
            object_id=str(key_id),
        ) from exc
    if stored_object != str(key_id):
        raise KeyFileDamaged(
            f"The key file {path} belongs to {owner} {stored_object}, not {key_id}.",
            object_id=str(key_id),
        )
    if stored_purpose != purpose:
        raise KeyFileDamaged(
            f"The key file {path} holds a {stored_purpose.replace('-', ' ')} key, not {what}.",
            object_id=str(key_id),
        )
    ring = key_ring()
    master = ring.get(stored_master_id)
    if master is None:
        current, *previous = ring
        also = f" (previous keys: {', '.join(previous)})" if previous else ""
        raise WrongMasterKey(
            f"{subject} was wrapped under master key {stored_master_id}, but the "
            f"configured master key is {current}{also}. Configure the master key it was wrapped "
            f"under, as the current key or in {PREVIOUS_FILES_VARIABLE}.",
            object_id=str(key_id),
        )
    try:
        return AESGCM(master.key).decrypt(nonce, wrapped, _wrap_aad(key_id, version, purpose))
    except InvalidTag as exc:
        raise KeyFileDamaged(
            f"The key file for {owner} {key_id} ({path}) failed its authentication check under the "
            "configured master key: it has been altered or damaged.",
            object_id=str(key_id),
        ) from exc


def destroy_data_key(object_id: uuid.UUID) -> bool:
    """Delete the object's key file. True if there was one.

    The file is locked while it is unlinked, so a rotation re-wrapping it at the same moment
    cannot put it back (see ``_locked_key_file``)."""
    return _destroy(key_path(object_id))


def destroy_pseudonymisation_key(key_id: uuid.UUID) -> bool:
    """Delete a pseudonymisation key file (every pseudonym made with it can then never be made
    again), locked as ``destroy_data_key`` does. True if there was one."""
    return _destroy(pseudonymisation_key_path(key_id))


def _destroy(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return delete_durably(path)
    finally:
        os.close(fd)


# Rotation -------------------------------------------------------------------------------------


class RewrapOutcome:
    REWRAPPED = "rewrapped"
    ALREADY_DONE = "already done"
    GONE = "gone"


class RewrapFailed(Exception):
    """One key file could not be re-wrapped; it was left exactly as it was."""


def key_files() -> Iterator[Path]:
    """The key store's key files (not temporary files), in a stable order: the objects' data
    keys, then the pseudonymisation keys of the ``pseudonym/`` folder."""
    for folder in (keystore_dir(), pseudonymisation_keys_dir()):
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if (
                path.name.endswith(KEY_FILE_SUFFIX)
                and not path.name.startswith(".")
                and path.is_file()
            ):
                yield path


def read_key_document(path: Path) -> dict[str, object]:
    """The key file's JSON, checked for the fields rotation needs. Raises ``RewrapFailed``."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(_MAX_KEY_FILE_BYTES + 1)
        if len(raw) > _MAX_KEY_FILE_BYTES:
            raise ValueError("too large")
        document = json.loads(raw)
        if not isinstance(document, dict):
            raise ValueError("not an object")
        for name in ("object_id", "version", "master_key_id", "nonce", "wrapped_key"):
            if name not in document:
                raise KeyError(name)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RewrapFailed("the key file is damaged and cannot be read") from exc
    return document


@contextlib.contextmanager
def _locked_key_file(path: Path) -> Iterator[int | None]:
    """Hold an exclusive lock on the key file now at ``path``; yield None if it is gone (or was
    replaced or deleted while we waited), so a re-wrap never resurrects a shredded key."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield None
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        yield fd if same else None
    finally:
        os.close(fd)


def rewrap_key_file(path: Path, *, new: MasterKey, old: Mapping[str, MasterKey]) -> str:
    """Re-wrap the data key in ``path`` from one of the ``old`` master keys (by id) to ``new``,
    replacing the file atomically (temporary file, fsync, rename, fsync the folder).

    Returns a ``RewrapOutcome``. Raises ``RewrapFailed`` with a reason when the file cannot be
    re-wrapped; the file is then left untouched. The data key never leaves this function."""
    with _locked_key_file(path) as fd:
        if fd is None:
            return RewrapOutcome.GONE
        document = read_key_document(path)
        stored_id = str(document["master_key_id"])
        if stored_id == new.id:
            return RewrapOutcome.ALREADY_DONE
        master = old.get(stored_id)
        if master is None:
            raise RewrapFailed(
                f"it was wrapped under master key {stored_id}, which is not among the old keys "
                f"given ({', '.join(old) or 'none'})"
            )
        try:
            object_id = uuid.UUID(str(document["object_id"]))
            version = int(str(document["version"]))
            nonce = base64.b64decode(str(document["nonce"]), validate=True)
            wrapped = base64.b64decode(str(document["wrapped_key"]), validate=True)
        except (ValueError, binascii.Error) as exc:
            raise RewrapFailed("the key file is damaged and cannot be read") from exc
        if path.name != f"{object_id}{KEY_FILE_SUFFIX}":
            raise RewrapFailed(f"the key file names another object ({object_id})")
        purpose = str(document.get("purpose", DATA_KEY))
        if purpose not in (DATA_KEY, PSEUDONYMISATION):
            raise RewrapFailed(f"the key file holds a key of unknown purpose ({purpose})")
        aad = _wrap_aad(object_id, version, purpose)
        try:
            data_key = AESGCM(master.key).decrypt(nonce, wrapped, aad)
        except InvalidTag as exc:
            raise RewrapFailed(
                f"it failed its authentication check under master key {stored_id}: it has been "
                "altered or damaged"
            ) from exc
        new_nonce = secrets.token_bytes(NONCE_BYTES)
        rewrapped = {
            **document,
            "master_key_id": new.id,
            "nonce": base64.b64encode(new_nonce).decode(),
            "wrapped_key": base64.b64encode(
                AESGCM(new.key).encrypt(new_nonce, data_key, aad)
            ).decode(),
        }
        write_atomically(path, [json.dumps(rewrapped, sort_keys=True).encode()], replace=True)
        return RewrapOutcome.REWRAPPED


def write_new_master_key_file(path: Path) -> MasterKey:
    """Create a new random master key in ``path`` (0600; never replacing an existing file)."""
    text = base64.b64encode(secrets.token_bytes(MASTER_KEY_BYTES)) + b"\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    fsync_folder(path.parent if str(path.parent) else Path("."))
    return read_master_key_file(path)
