"""Every way the stored object or its key can be wrong is caught, each with its own error, and
never hands out wrong data as if it were right."""

from __future__ import annotations

import base64
import json
import os

import pytest

from accord.vault import keys
from accord.vault.exceptions import (
    ChunkOutOfPlace,
    ChunkTampered,
    KeyFileDamaged,
    KeyFileMissing,
    ObjectExtended,
    ObjectTruncated,
    VaultIntegrityError,
    WrongMasterKey,
)

from .conftest import CHUNK, blob_path, read, records, rewrite, store

pytestmark = pytest.mark.django_db

DATA = b"".join(bytes([65 + i]) * CHUNK for i in range(4)) + b"tail"  # 4 full chunks + 4 bytes


@pytest.fixture
def stored(member):
    organisation, actor = member
    obj = store(actor, organisation, DATA)
    assert read(actor, obj) == DATA
    return actor, obj


def test_a_flipped_byte(stored) -> None:
    actor, obj = stored
    raw = bytearray(blob_path(obj).read_bytes())
    raw[8 + CHUNK + 28 + 20] ^= 0x01  # inside the second chunk's ciphertext
    blob_path(obj).write_bytes(bytes(raw))
    with pytest.raises(ChunkTampered, match=rf"{obj.id} failed its integrity check at chunk 2"):
        read(actor, obj)


def test_a_flipped_byte_in_the_header(stored) -> None:
    actor, obj = stored
    raw = bytearray(blob_path(obj).read_bytes())
    raw[0] ^= 0x01
    blob_path(obj).write_bytes(bytes(raw))
    with pytest.raises(ChunkTampered, match="does not start as a vault object should"):
        read(actor, obj)


def test_two_swapped_chunks(stored) -> None:
    actor, obj = stored
    parts = records(obj)
    parts[0], parts[2] = parts[2], parts[0]
    rewrite(obj, parts)
    with pytest.raises(ChunkOutOfPlace, match="position 1 belongs at position 3"):
        read(actor, obj)


def test_the_final_chunk_cut_off(stored) -> None:
    actor, obj = stored
    rewrite(obj, records(obj)[:-1])
    with pytest.raises(ObjectTruncated, match="cut short: it ends after chunk 4 of 5"):
        read(actor, obj)


def test_cut_off_part_way_through_a_chunk(stored) -> None:
    actor, obj = stored
    raw = blob_path(obj).read_bytes()
    blob_path(obj).write_bytes(raw[:-3])
    with pytest.raises(ObjectTruncated, match="cut short"):
        read(actor, obj)


def test_cut_off_part_way_through_an_earlier_chunk(stored) -> None:
    actor, obj = stored
    raw = blob_path(obj).read_bytes()
    blob_path(obj).write_bytes(raw[: 8 + 2 * (CHUNK + 28) + 10])
    with pytest.raises(ObjectTruncated, match="cut short"):
        read(actor, obj)


def test_everything_but_the_header_gone(stored) -> None:
    actor, obj = stored
    rewrite(obj, [])
    with pytest.raises(ObjectTruncated, match="cut short"):
        read(actor, obj)


def test_a_whole_record_appended(stored) -> None:
    actor, obj = stored
    parts = records(obj)
    rewrite(obj, [*parts, parts[1]])
    with pytest.raises(ObjectExtended, match="added after its final chunk"):
        read(actor, obj)


def test_a_few_bytes_appended(stored) -> None:
    actor, obj = stored
    with blob_path(obj).open("ab") as handle:
        handle.write(b"junk")
    with pytest.raises(ObjectExtended):
        read(actor, obj)


def test_the_wrong_master_key(stored, settings) -> None:
    actor, obj = stored
    settings.VAULT_MASTER_KEY = base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(WrongMasterKey, match=r"wrapped under master key .* configured master key"):
        read(actor, obj)


def test_a_deleted_key_file(stored) -> None:
    actor, obj = stored
    keys.key_path(obj.id).unlink()
    with pytest.raises(KeyFileMissing, match=rf"key for vault object {obj.id} is missing"):
        read(actor, obj)


def test_an_altered_key_file(stored) -> None:
    actor, obj = stored
    path = keys.key_path(obj.id)
    document = json.loads(path.read_text())
    wrapped = bytearray(base64.b64decode(document["wrapped_key"]))
    wrapped[0] ^= 0x01
    document["wrapped_key"] = base64.b64encode(bytes(wrapped)).decode()
    path.write_text(json.dumps(document))
    with pytest.raises(KeyFileDamaged, match="failed its authentication check"):
        read(actor, obj)


def test_a_key_file_copied_from_another_object(stored, member) -> None:
    actor, obj = stored
    organisation, _ = member
    other = store(actor, organisation, b"other")
    keys.key_path(obj.id).write_bytes(keys.key_path(other.id).read_bytes())
    with pytest.raises(KeyFileDamaged, match="belongs to vault object"):
        read(actor, obj)


def test_each_case_is_its_own_error() -> None:
    cases = {
        ChunkTampered,
        ChunkOutOfPlace,
        ObjectTruncated,
        ObjectExtended,
        WrongMasterKey,
        KeyFileMissing,
        KeyFileDamaged,
    }
    assert all(issubclass(case, VaultIntegrityError) for case in cases)
    assert not any(a is not b and issubclass(a, b) for a in cases for b in cases)
