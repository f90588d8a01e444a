"""The S3 backend against a real S3-compatible server (moto's, started on 127.0.0.1 for the
session): the same round trips, tamper errors, clean failures, shredding and ciphertext-only
storage as on the local disk. Each test gets its own bucket, chosen by ``VAULT_URL``."""

from __future__ import annotations

import base64
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from accord.vault import actions, keys
from accord.vault.backends import S3Backend, backend_for_url, default_backend
from accord.vault.enums import BLOB_MAGIC, CHUNK_OVERHEAD
from accord.vault.exceptions import (
    ChunkOutOfPlace,
    ChunkTampered,
    KeyFileMissing,
    ObjectExtended,
    ObjectTruncated,
    WrongMasterKey,
)
from accord.vault.models import VaultObject

from .conftest import CHUNK, read, store
from .test_at_rest import KNOWN

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024
REGION = "eu-west-2"
PREFIX = "vault"
_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "accord-test",
    "AWS_SECRET_ACCESS_KEY": "accord-test-secret",
    "AWS_SESSION_TOKEN": "",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "NO_PROXY": "127.0.0.1",
    "no_proxy": "127.0.0.1",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    saved = {name: os.environ.get(name) for name in _AWS_ENV}
    os.environ.update(_AWS_ENV)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def s3(s3_endpoint, settings):
    """A fresh bucket, made the vault's blob store through ``VAULT_URL``."""
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION)
    bucket = f"accord-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    settings.VAULT_URL = f"s3://{bucket}/{PREFIX}?endpoint_url={s3_endpoint}&region={REGION}"
    backend = default_backend()
    assert isinstance(backend, S3Backend)
    return client, bucket


def _names(s3) -> list[str]:
    client, bucket = s3
    listing = client.list_objects_v2(Bucket=bucket)
    return [item["Key"] for item in listing.get("Contents", [])]


def _raw(s3, obj: VaultObject) -> bytes:
    client, bucket = s3
    return client.get_object(Bucket=bucket, Key=f"{PREFIX}/{obj.blob_key}")["Body"].read()


def _put(s3, obj: VaultObject, raw: bytes) -> None:
    client, bucket = s3
    client.put_object(Bucket=bucket, Key=f"{PREFIX}/{obj.blob_key}", Body=raw)


def _records(s3, obj: VaultObject) -> list[bytes]:
    raw = _raw(s3, obj)
    assert raw.startswith(BLOB_MAGIC)
    body, size = raw[len(BLOB_MAGIC) :], obj.chunk_size + CHUNK_OVERHEAD
    return [body[i : i + size] for i in range(0, len(body), size)]


# Round trips -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 11, 7 * CHUNK + 3], ids=["empty", "small", "multi-chunk"])
def test_round_trip(s3, member, size: int) -> None:
    organisation, actor = member
    data = (b"0123456789abcdef" * (size // 16 + 1))[:size]
    obj = store(actor, organisation, data)
    assert read(actor, obj) == data
    assert _names(s3) == [f"{PREFIX}/{obj.blob_key}"]
    assert not Path(django_settings.VAULT_DIR).exists()  # nothing went to the local folder


def test_a_large_object_goes_up_in_several_parts(s3, member) -> None:
    organisation, actor = member
    data = os.urandom(11 * MIB)
    obj = store(actor, organisation, data, chunk_size=MIB)
    client, bucket = s3
    etag = client.head_object(Bucket=bucket, Key=f"{PREFIX}/{obj.blob_key}")["ETag"]
    assert etag.strip('"').endswith("-2")  # two parts of a multipart upload (8 MiB + the rest)
    assert read(actor, obj) == data


def test_an_existing_blob_is_never_replaced(s3) -> None:
    backend = default_backend()
    key = f"{uuid.uuid4()}.v1"
    backend.write(key, [b"first"])
    with pytest.raises(FileExistsError):
        backend.write(key, [b"second"])
    with backend.open(key) as stream:
        assert stream.read() == b"first"


# Tampering: the same errors as on the local disk ------------------------------------------------

DATA = b"".join(bytes([65 + i]) * CHUNK for i in range(4)) + b"tail"  # 4 full chunks + 4 bytes


@pytest.fixture
def stored(s3, member):
    organisation, actor = member
    obj = store(actor, organisation, DATA)
    assert read(actor, obj) == DATA
    return actor, obj


def test_a_flipped_byte(s3, stored) -> None:
    actor, obj = stored
    raw = bytearray(_raw(s3, obj))
    raw[8 + CHUNK + 28 + 20] ^= 0x01  # inside the second chunk's ciphertext
    _put(s3, obj, bytes(raw))
    with pytest.raises(ChunkTampered, match=rf"{obj.id} failed its integrity check at chunk 2"):
        read(actor, obj)


def test_two_swapped_chunks(s3, stored) -> None:
    actor, obj = stored
    parts = _records(s3, obj)
    parts[0], parts[2] = parts[2], parts[0]
    _put(s3, obj, BLOB_MAGIC + b"".join(parts))
    with pytest.raises(ChunkOutOfPlace, match="position 1 belongs at position 3"):
        read(actor, obj)


def test_the_final_chunk_cut_off(s3, stored) -> None:
    actor, obj = stored
    _put(s3, obj, BLOB_MAGIC + b"".join(_records(s3, obj)[:-1]))
    with pytest.raises(ObjectTruncated, match="cut short: it ends after chunk 4 of 5"):
        read(actor, obj)


def test_cut_off_part_way_through_a_chunk(s3, stored) -> None:
    actor, obj = stored
    _put(s3, obj, _raw(s3, obj)[:-3])
    with pytest.raises(ObjectTruncated, match="cut short"):
        read(actor, obj)


def test_a_missing_blob(s3, stored) -> None:
    actor, obj = stored
    client, bucket = s3
    client.delete_object(Bucket=bucket, Key=f"{PREFIX}/{obj.blob_key}")
    with pytest.raises(ObjectTruncated, match="blob is missing"):
        read(actor, obj)


def test_a_few_bytes_appended(s3, stored) -> None:
    actor, obj = stored
    _put(s3, obj, _raw(s3, obj) + b"junk")
    with pytest.raises(ObjectExtended):
        read(actor, obj)


def test_the_wrong_master_key(s3, stored, settings) -> None:
    actor, obj = stored
    settings.VAULT_MASTER_KEY = base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(WrongMasterKey, match=r"wrapped under master key .* configured master key"):
        read(actor, obj)


def test_a_deleted_key_file(s3, stored) -> None:
    actor, obj = stored
    keys.key_path(obj.id).unlink()
    with pytest.raises(KeyFileMissing, match=rf"key for vault object {obj.id} is missing"):
        read(actor, obj)


# Failures, shredding, nothing in plaintext -------------------------------------------------------


class SourceFailed(Exception):
    pass


def test_an_upload_failing_part_way_leaves_nothing(s3, member) -> None:
    organisation, actor = member
    earlier = store(actor, organisation, b"e" * (3 * CHUNK), name="Earlier return")
    keystore = Path(django_settings.VAULT_KEYSTORE_DIR)
    key_files = set(keystore.rglob("*"))

    def failing_source() -> Iterator[bytes]:
        for _ in range(10):  # 10 MiB: the first 8 MiB part is uploaded before the failure
            yield os.urandom(MIB)
        raise SourceFailed("the upload connection dropped")

    with pytest.raises(SourceFailed):
        store(actor, organisation, failing_source(), chunk_size=MIB, name="Interrupted return")

    client, bucket = s3
    assert _names(s3) == [f"{PREFIX}/{earlier.blob_key}"]
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []  # aborted
    assert set(keystore.rglob("*")) == key_files  # no key file left behind
    assert list(VaultObject.objects.values_list("name", flat=True)) == ["Earlier return"]
    assert read(actor, earlier) == b"e" * (3 * CHUNK)


def test_shredding_deletes_the_s3_object(s3, member) -> None:
    organisation, actor = member
    obj = store(actor, organisation, b"to be forgotten" * 20)
    kept = store(actor, organisation, b"still here")
    assert f"{PREFIX}/{obj.blob_key}" in _names(s3)

    actions.crypto_shred(by=actor, obj=obj, reason="Retention period ended")

    assert _names(s3) == [f"{PREFIX}/{kept.blob_key}"]
    assert not keys.key_path(obj.id).exists()
    assert read(actor, kept) == b"still here"


def test_the_bucket_holds_no_known_value_in_plaintext(s3, member) -> None:
    organisation, actor = member
    data = b"\n".join(KNOWN) * 50
    obj = store(actor, organisation, data, name="Pupil eligibility return")
    assert read(actor, obj) == data
    client, bucket = s3
    names = _names(s3)
    assert names == [f"{PREFIX}/{obj.blob_key}"]
    for name in names:
        content = client.get_object(Bucket=bucket, Key=name)["Body"].read()
        for value in KNOWN:
            assert value not in content, f"{value!r} found in plaintext in s3://{bucket}/{name}"


# Choosing the backend by URL ---------------------------------------------------------------------


def test_the_url_names_bucket_prefix_endpoint_and_region(s3_endpoint) -> None:
    backend = backend_for_url(f"s3://my-bucket/a/b/?endpoint_url={s3_endpoint}&region={REGION}")
    assert isinstance(backend, S3Backend)
    assert (backend.bucket, backend.prefix) == ("my-bucket", "a/b/")
    assert backend.client.meta.endpoint_url == s3_endpoint
    assert backend.client.meta.region_name == REGION


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://host/x", "must start file:// or s3://"),
        ("s3:///prefix", "Name the bucket"),
        ("s3://bucket/p?colour=blue", "Unknown option"),
    ],
)
def test_a_bad_url_is_refused(url: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        backend_for_url(url)


def test_a_file_url_is_the_local_folder(tmp_path) -> None:
    assert backend_for_url(tmp_path.as_uri()).root == tmp_path  # type: ignore[attr-defined]
