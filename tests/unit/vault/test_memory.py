"""A multi-megabyte object streams in and out without being held whole: the source is taken a
chunk at a time, the reader hands out chunk-sized pieces, and Python's peak allocation stays a
few chunks whatever the object's size. (Counts and sizes, not timings.)"""

from __future__ import annotations

import hashlib
import tracemalloc
from collections.abc import Iterator

import pytest

from accord.vault import queries

from .conftest import permit, store

pytestmark = pytest.mark.django_db

CHUNK = 256 * 1024
PIECE = 64 * 1024
PIECES = 96  # 6 MiB: 24 chunks


class Source:
    """Yields distinct pieces; remembers how much it gave out."""

    def __init__(self) -> None:
        self.given = 0
        self.sha256 = hashlib.sha256()

    def __iter__(self) -> Iterator[bytes]:
        for index in range(PIECES):
            piece = index.to_bytes(4, "big") * (PIECE // 4)
            self.sha256.update(piece)
            self.given += len(piece)
            yield piece


def test_a_multi_megabyte_object_streams_both_ways(member) -> None:
    organisation, actor = member
    source = Source()
    tracemalloc.start()
    try:
        obj = store(actor, organisation, source, chunk_size=CHUNK)
        _, stored_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        reader = queries.open_object(obj.id, by=actor, decision=permit(actor, obj))
        largest, total, digest = 0, 0, hashlib.sha256()
        for chunk in reader:
            largest = max(largest, len(chunk))
            total += len(chunk)
            digest.update(chunk)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    size = PIECE * PIECES
    assert obj.size == size == source.given == total
    assert digest.hexdigest() == source.sha256.hexdigest() == obj.sha256
    assert largest == CHUNK
    # Whole-object buffering would need at least 6 MiB; streaming needs a few chunks.
    assert stored_peak < 8 * CHUNK, stored_peak
    assert read_peak < 8 * CHUNK, read_peak
