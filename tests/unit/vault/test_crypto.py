"""The chunked AES-256-GCM format on its own: round trips, chunk boundaries, and streaming in
both directions without holding the object whole."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator

import pytest

from accord.vault.crypto import (
    PlaintextTally,
    blob_size,
    chunk_aad,
    decrypt_stream,
    encrypt_stream,
    rechunk,
)
from accord.vault.exceptions import ChunkOutOfPlace
from accord.vault.keys import new_data_key

CHUNK = 32


def encrypt(data: bytes, key: bytes, object_id: uuid.UUID, chunk: int = CHUNK) -> bytes:
    return b"".join(
        encrypt_stream(
            [data],
            data_key=key,
            object_id=object_id,
            version=1,
            chunk_size=chunk,
            tally=PlaintextTally(),
        )
    )


def decrypt(blob: bytes, key: bytes, object_id: uuid.UUID, size: int, chunk: int = CHUNK) -> bytes:
    return b"".join(
        decrypt_stream(
            io.BytesIO(blob),
            data_key=key,
            object_id=object_id,
            version=1,
            chunk_size=chunk,
            size=size,
        )
    )


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 5 * CHUNK + 7])
def test_round_trip_at_every_boundary(size: int) -> None:
    key, object_id = new_data_key(), uuid.uuid4()
    data = bytes(range(256)) * (size // 256 + 1)
    data = data[:size]
    blob = encrypt(data, key, object_id)
    assert len(blob) == blob_size(size, CHUNK)
    assert decrypt(blob, key, object_id, size) == data


def test_rechunk_marks_only_the_last_chunk_and_keeps_sizes_fixed() -> None:
    pieces = list(rechunk([b"a" * 10, b"b" * 50, b"", b"c" * 4], 32))
    assert [(len(c), last) for c, last in pieces] == [(32, False), (32, True)]
    assert list(rechunk([], 32)) == [(b"", True)]
    assert list(rechunk([b"x" * 32], 32)) == [(b"x" * 32, True)]


def test_rechunk_refuses_text() -> None:
    with pytest.raises(TypeError, match="stores bytes"):
        list(rechunk(["text"], 32))  # type: ignore[list-item]


def test_the_same_plaintext_never_gives_the_same_ciphertext() -> None:
    key, object_id = new_data_key(), uuid.uuid4()
    assert encrypt(b"same" * 20, key, object_id) != encrypt(b"same" * 20, key, object_id)


def test_a_chunk_of_another_object_does_not_open_here() -> None:
    key, first, second = new_data_key(), uuid.uuid4(), uuid.uuid4()
    assert chunk_aad(first, 1, 0, True) != chunk_aad(second, 1, 0, True)
    assert chunk_aad(first, 1, 0, True) != chunk_aad(first, 2, 0, True)
    blob = encrypt(b"q" * 100, key, first)
    with pytest.raises(Exception, match=r"integrity check|out of order|cut short|added after"):
        decrypt(blob, key, second, 100)


def test_a_swapped_pair_is_named_as_out_of_order() -> None:
    key, object_id = new_data_key(), uuid.uuid4()
    blob = encrypt(b"".join(bytes([i]) * CHUNK for i in range(4)), key, object_id)
    record = CHUNK + 28
    body = blob[8:]
    parts = [body[i : i + record] for i in range(0, len(body), record)]
    parts[1], parts[2] = parts[2], parts[1]
    with pytest.raises(ChunkOutOfPlace, match="position 2 belongs at position 3"):
        decrypt(blob[:8] + b"".join(parts), key, object_id, 4 * CHUNK)


class CountingSource:
    """A source that says how much of it has been taken so far."""

    def __init__(self, pieces: int, piece: bytes) -> None:
        self.pieces, self.piece, self.taken = pieces, piece, 0

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(self.pieces):
            self.taken += len(self.piece)
            yield self.piece


def test_encryption_takes_the_source_a_chunk_at_a_time() -> None:
    source = CountingSource(pieces=1000, piece=b"z" * 10)  # 10,000 bytes
    stream = encrypt_stream(
        source,
        data_key=new_data_key(),
        object_id=uuid.uuid4(),
        version=1,
        chunk_size=100,
        tally=PlaintextTally(),
    )
    next(stream)  # the magic
    next(stream)  # the first record
    assert source.taken <= 100 + 10  # one chunk and one piece, not the whole source


class CountingReader(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.taken = 0

    def read(self, size: int | None = -1) -> bytes:
        part = super().read(size)
        self.taken += len(part)
        return part


def test_decryption_reads_the_blob_a_record_or_two_at_a_time() -> None:
    key, object_id = new_data_key(), uuid.uuid4()
    size = 100 * CHUNK
    stream = CountingReader(encrypt(b"m" * size, key, object_id))
    chunks = decrypt_stream(
        stream, data_key=key, object_id=object_id, version=1, chunk_size=CHUNK, size=size
    )
    first = next(chunks)
    assert first == b"m" * CHUNK
    assert stream.taken <= 8 + 2 * (CHUNK + 28)
    assert max(len(c) for c in chunks) == CHUNK
