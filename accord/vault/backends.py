"""Where encrypted blobs live. The vault only ever hands a backend ciphertext.

``Backend`` is the whole interface a store must offer. ``LocalBackend`` keeps blobs under
``ACCORD_VAULT_DIR``; ``S3Backend`` keeps them in an S3-compatible bucket: ``write`` is a
multipart upload (S3 shows an object only once its upload completes, and a failed upload is
aborted, so writes stay atomic), ``open`` a streaming GET, ``delete`` a DELETE. Blob keys are
plain text (``<object id>.v<version>``), safe as S3 keys. ``ACCORD_VAULT_URL`` chooses the
store (``default_backend``): empty or ``file:///path`` for the local folder,
``s3://bucket/prefix?endpoint_url=...&region=...`` for S3, with credentials from the standard
AWS environment variables.
"""

from __future__ import annotations

import abc
import contextlib
import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .files import TEMPORARY_SUFFIX, delete_durably, private_folder, write_atomically

_KEY = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.v[0-9]+$")


class BlobNotFound(Exception):
    """The backend holds no blob under this key."""


class Backend(abc.ABC):
    """A store of whole, immutable blobs."""

    @abc.abstractmethod
    def write(self, key: str, pieces: Iterable[bytes | bytearray]) -> int:
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

    def write(self, key: str, pieces: Iterable[bytes | bytearray]) -> int:
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


MIN_PART_SIZE = 5 * 1024 * 1024  # S3's smallest part, except the last
DEFAULT_PART_SIZE = 8 * 1024 * 1024


class S3Backend(Backend):
    """Blobs as objects in an S3-compatible bucket, under an optional key prefix.

    ``write`` streams a multipart upload, holding at most one part (``part_size`` plus one
    encrypted chunk) in memory; if anything fails before the upload completes it is aborted, so
    no object, partial or whole, is ever visible under the key."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        part_size: int = DEFAULT_PART_SIZE,
        client: Any = None,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"S3 upload parts must be at least {MIN_PART_SIZE} bytes.")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.part_size = part_size
        self.client = client or _s3_client(endpoint_url, region)

    def object_key(self, key: str) -> str:
        return self.prefix + _checked(key)

    def write(self, key: str, pieces: Iterable[bytes | bytearray]) -> int:
        name = self.object_key(key)
        if self.exists(key):
            raise FileExistsError(f"s3://{self.bucket}/{name} already exists.")
        upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=name)["UploadId"]
        parts: list[dict[str, Any]] = []
        written = 0
        buffer = bytearray()

        def send() -> None:
            number = len(parts) + 1
            answer = self.client.upload_part(
                Bucket=self.bucket,
                Key=name,
                UploadId=upload_id,
                PartNumber=number,
                Body=bytes(buffer),
            )
            parts.append({"ETag": answer["ETag"], "PartNumber": number})
            buffer.clear()

        try:
            for piece in pieces:
                buffer += piece
                written += len(piece)
                if len(buffer) >= self.part_size:
                    send()
            if buffer or not parts:
                send()
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=name,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            with contextlib.suppress(Exception):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
            raise
        return written

    def open(self, key: str) -> BinaryIO:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))
        except self.client.exceptions.NoSuchKey as exc:
            raise BlobNotFound(key) from exc
        # botocore's StreamingBody reads the response as it arrives; read(n) returns at most n.
        return cast(BinaryIO, answer["Body"])

    def delete(self, key: str) -> bool:
        existed = self.exists(key)
        self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))
        return existed

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True


@functools.lru_cache(maxsize=8)
def _s3_client(endpoint_url: str | None, region: str | None) -> Any:
    """One client per endpoint and region (clients are thread-safe; credentials come from
    the standard AWS environment variables or configuration)."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region or None,
        config=Config(retries={"mode": "standard"}),
    )


def backend_for_url(url: str) -> Backend:
    """The blob store a vault URL names: ``file:///path`` or ``s3://bucket/prefix?...``."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path:
            raise ImproperlyConfigured(f"Give the vault folder as file:///absolute/path: {url!r}")
        return LocalBackend(Path(unquote(parts.path)))
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ImproperlyConfigured(f"Name the bucket in the vault URL: {url!r}")
        options = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        unknown = set(options) - {"endpoint_url", "region"}
        if unknown:
            raise ImproperlyConfigured(
                f"Unknown option(s) {', '.join(sorted(unknown))} in the vault URL; "
                "only endpoint_url and region are understood."
            )
        return S3Backend(
            parts.netloc,
            unquote(parts.path),
            endpoint_url=options.get("endpoint_url"),
            region=options.get("region"),
        )
    raise ImproperlyConfigured(
        f"The vault URL must start file:// or s3://, not {parts.scheme or 'nothing'}: {url!r}"
    )


def default_backend() -> Backend:
    url = getattr(settings, "VAULT_URL", "")
    if url and urlsplit(url).scheme != "file":
        return backend_for_url(url)
    # A file:// URL is folded into VAULT_DIR by the settings, so the folder checks apply to it.
    return LocalBackend(Path(settings.VAULT_DIR))
