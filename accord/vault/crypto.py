"""Chunked AES-256-GCM: the vault's on-disk format.

A blob is ``BLOB_MAGIC`` followed by one record per chunk: a fresh random 96-bit nonce, then the
chunk's ciphertext and 16-byte tag. Every chunk holds ``chunk_size`` bytes of plaintext except
the last, which holds 0 to ``chunk_size`` bytes; an empty object is one empty final chunk.

Each chunk's associated data binds it to the object id, the object's version, the chunk's index
and whether it is the final chunk. So a chunk moved to another position or object fails to
decrypt, and so does an object cut short at a chunk boundary (its new last chunk was sealed as
"not last") or extended after its final chunk (the real final chunk is no longer last).

Both directions stream: the writer holds at most one chunk of plaintext (plus one piece of the
source), the reader at most two records. When a chunk fails, the reader works out why (moved,
cut short, extended, or altered) so each case gets its own error.
"""

from __future__ import annotations

import hashlib
import secrets
import struct
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .enums import BLOB_MAGIC, CHUNK_OVERHEAD, NONCE_BYTES
from .exceptions import (
    ChunkOutOfPlace,
    ChunkTampered,
    ObjectExtended,
    ObjectTruncated,
    VaultIntegrityError,
)

_AAD_PREFIX = b"accord-vault-chunk:v1:"


class PlaintextTally:
    """The SHA-256 and size of the plaintext, counted as it streams past."""

    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self.sha256.update(chunk)
        self.size += len(chunk)


def chunk_aad(object_id: uuid.UUID, version: int, index: int, last: bool) -> bytes:
    return _AAD_PREFIX + object_id.bytes + struct.pack(">QQ?", version, index, last)


def chunk_count(size: int, chunk_size: int) -> int:
    """How many chunks an object of ``size`` bytes has (an empty object has one)."""
    return max(1, -(-size // chunk_size))


def blob_size(size: int, chunk_size: int) -> int:
    return len(BLOB_MAGIC) + size + chunk_count(size, chunk_size) * CHUNK_OVERHEAD


def rechunk(source: Iterable[bytes], chunk_size: int) -> Iterator[tuple[bytes, bool]]:
    """Cut ``source`` into (chunk, is_last) pairs of exactly ``chunk_size`` bytes, the last one
    0 to ``chunk_size`` bytes. Holds at most one chunk plus one piece of the source.

    Each byte is copied at most once: a piece that is exactly a chunk passes through untouched,
    and a chunk made of several pieces is joined from views of them in one copy."""
    held: deque[bytes | memoryview] = deque()
    held_size = 0
    for piece in source:
        if not isinstance(piece, bytes | bytearray | memoryview):
            raise TypeError(f"The vault stores bytes; the source gave {type(piece).__name__}.")
        if not piece:
            continue
        held.append(piece if isinstance(piece, bytes) else memoryview(piece).cast("B"))
        held_size += len(piece)
        while held_size > chunk_size:  # more follows this chunk, so it is not the last
            yield _take(held, chunk_size), False
            held_size -= chunk_size
    yield _take(held, held_size), True


def _take(held: deque[bytes | memoryview], count: int) -> bytes:
    """Remove the first ``count`` bytes from ``held`` and give them back as one bytes."""
    parts: list[bytes | memoryview] = []
    while count:
        head = held[0]
        if len(head) <= count:
            parts.append(held.popleft())
            count -= len(head)
        else:
            view = head if isinstance(head, memoryview) else memoryview(head)
            parts.append(view[:count])
            held[0] = view[count:]
            count = 0
    if len(parts) == 1 and isinstance(parts[0], bytes):
        return parts[0]
    return b"".join(parts)


def encrypt_stream(
    source: Iterable[bytes],
    *,
    data_key: bytes,
    object_id: uuid.UUID,
    version: int,
    chunk_size: int,
    tally: PlaintextTally,
) -> Iterator[bytes | bytearray]:
    """Yield the blob for ``source``: the magic, then one record per chunk. Feeds each
    plaintext chunk to ``tally`` (so the caller learns the SHA-256 and size as it goes)."""
    aead = AESGCM(data_key)
    yield BLOB_MAGIC
    for index, (chunk, last) in enumerate(rechunk(source, chunk_size)):
        tally.update(chunk)
        record = bytearray(CHUNK_OVERHEAD + len(chunk))  # nonce, ciphertext, tag
        record[:NONCE_BYTES] = nonce = secrets.token_bytes(NONCE_BYTES)
        aead.encrypt_into(
            nonce,
            chunk,
            chunk_aad(object_id, version, index, last),
            memoryview(record)[NONCE_BYTES:],
        )
        yield record  # encrypted in place: no second copy of the chunk


def _read_exactly(stream: BinaryIO, count: int) -> bytes:
    parts: list[bytes] = []
    remaining = count
    while remaining:
        part = stream.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def decrypt_stream(
    stream: BinaryIO,
    *,
    data_key: bytes,
    object_id: uuid.UUID,
    version: int,
    chunk_size: int,
    size: int,
) -> Iterator[bytes]:
    """Yield the plaintext chunks of the blob in ``stream``, each checked as it comes.

    ``size`` (from the object's metadata) is used only to name the problem when a chunk fails;
    what is accepted rests on the authentication tags alone.
    """
    aead = AESGCM(data_key)
    name = str(object_id)
    expected_chunks = chunk_count(size, chunk_size)
    record_size = chunk_size + CHUNK_OVERHEAD
    magic = _read_exactly(stream, len(BLOB_MAGIC))
    if magic != BLOB_MAGIC:
        raise ChunkTampered(
            f"Vault object {name} does not start as a vault object should: its stored data "
            "has been altered or damaged.",
            object_id=name,
        )
    current = _read_exactly(stream, record_size)
    index = 0
    while True:
        following = _read_exactly(stream, record_size)
        last = not following
        if len(current) < CHUNK_OVERHEAD:
            raise ObjectTruncated(
                f"Vault object {name} is cut short: chunk {index + 1} of {expected_chunks} is "
                "missing or incomplete.",
                object_id=name,
            )
        nonce, sealed = current[:NONCE_BYTES], current[NONCE_BYTES:]
        try:
            plain = aead.decrypt(nonce, sealed, chunk_aad(object_id, version, index, last))
        except InvalidTag:
            raise _diagnose(
                aead,
                nonce,
                sealed,
                object_id,
                version,
                index,
                last,
                expected_chunks,
                len(current),
                size,
                chunk_size,
            ) from None
        yield plain
        if last:
            return
        current = following
        index += 1


def _opens(aead: AESGCM, nonce: bytes, sealed: bytes, aad: bytes) -> bool:
    try:
        aead.decrypt(nonce, sealed, aad)
    except InvalidTag:
        return False
    return True


def _diagnose(
    aead: AESGCM,
    nonce: bytes,
    sealed: bytes,
    object_id: uuid.UUID,
    version: int,
    index: int,
    last: bool,
    expected_chunks: int,
    record_length: int,
    size: int,
    chunk_size: int,
) -> VaultIntegrityError:
    """Why chunk ``index`` failed. Runs only on the failure path, so it may try a few keys."""
    name = str(object_id)
    position = f"chunk {index + 1} of {expected_chunks}"
    if _opens(aead, nonce, sealed, chunk_aad(object_id, version, index, not last)):
        if last:
            return ObjectTruncated(
                f"Vault object {name} is cut short: it ends after {position}, which is not its "
                "final chunk. Restore the object from a backup.",
                object_id=name,
            )
        return ObjectExtended(
            f"Vault object {name} has data added after its final chunk ({position}). Do not "
            "trust it; restore the object from a backup.",
            object_id=name,
        )
    # A genuine chunk of this object at the wrong place? Check every position it could have.
    for other in range(max(expected_chunks, index + 2)):
        if other == index:
            continue
        for other_last in (False, True):
            if _opens(aead, nonce, sealed, chunk_aad(object_id, version, other, other_last)):
                return ChunkOutOfPlace(
                    f"Vault object {name} has its chunks out of order: the chunk stored at "
                    f"position {index + 1} belongs at position {other + 1}. Do not trust it; "
                    "restore the object from a backup.",
                    object_id=name,
                )
    final_length = size - (expected_chunks - 1) * chunk_size + CHUNK_OVERHEAD
    at_final = index + 1 == expected_chunks
    if last and (index + 1 < expected_chunks or (at_final and record_length < final_length)):
        return ObjectTruncated(
            f"Vault object {name} is cut short: it ends part-way through {position}. Restore "
            "the object from a backup.",
            object_id=name,
        )
    if index + 1 > expected_chunks or (at_final and record_length > final_length):
        return ObjectExtended(
            f"Vault object {name} has data added after its final chunk (it was stored with "
            f"{expected_chunks}). Do not trust it; restore the object from a backup.",
            object_id=name,
        )
    return ChunkTampered(
        f"Vault object {name} failed its integrity check at {position}: the stored data has "
        "been altered or damaged. Do not trust it; restore the object from a backup.",
        object_id=name,
    )
