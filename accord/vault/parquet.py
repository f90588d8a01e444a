"""Dataframes in and out of the vault as Parquet.

Vault objects holding tables are Parquet files (zstd). ``store_frame`` streams in one pass:
Polars writes the Parquet on a writer thread into a small bounded queue (about a megabyte a
write, at most ``_QUEUE_DEPTH`` writes waiting), and ``actions.store`` encrypts from that queue
on the calling thread, which keeps the database work on the caller's connection. No plaintext
file is written, and encrypting overlaps Polars' own compression. A ``LazyFrame`` is written
with ``sink_parquet``, so a frame larger than memory is never collected. If either side fails,
the other is stopped and the first error is raised; nothing is stored.

``read_frame`` takes an access decision,
streams the decrypted object into a private temporary folder and reads it with Polars; the
object's SHA-256 is checked when the stream ends, before Polars reads a byte, so a tampered
object raises its integrity error and never gives back part of a frame.

Plaintext exists only in memory and, while a read runs, in that private folder.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import os
import queue
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final, cast

import polars as pl
from django.conf import settings

from accord.access.decisions import Decision
from accord.access.enums import Action, ResourceKind
from accord.audit.actor import Actor
from accord.organisations.models import Organisation

from . import actions, queries
from .models import VaultObject

COMPRESSION: Final = "zstd"
_FILE_NAME = "object.parquet"
_QUEUE_DEPTH: Final = 8
_DONE: Final = object()


class _Stopped(Exception):
    """The reading side has stopped: the writer thread gives up."""


class _QueueSink(io.RawIOBase):
    """A write-only file for Polars that hands each write, copied, to a bounded queue."""

    def __init__(self, pieces: queue.Queue[object], stop: threading.Event) -> None:
        super().__init__()
        self._pieces, self._stop = pieces, stop

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        piece = bytes(data)  # Polars may reuse its buffer once write returns
        while True:
            if self._stop.is_set():
                raise _Stopped
            try:
                self._pieces.put(piece, timeout=0.1)
            except queue.Full:
                continue
            return len(piece)


@contextlib.contextmanager
def _parquet_stream(frame: pl.DataFrame | pl.LazyFrame) -> Iterator[Iterator[bytes]]:
    """The Parquet bytes of ``frame`` as an iterator, written by Polars on a writer thread.

    On leaving, the writer is stopped (if the reader gave up early) and joined, so no thread
    outlives the call. A failure in Polars is raised from the iterator."""
    pieces: queue.Queue[object] = queue.Queue(maxsize=_QUEUE_DEPTH)
    stop = threading.Event()

    def write() -> None:
        outcome: object = _DONE
        try:
            sink = cast(IO[bytes], _QueueSink(pieces, stop))  # a file as far as Polars cares
            if isinstance(frame, pl.LazyFrame):
                frame.sink_parquet(sink, compression=COMPRESSION)
            else:
                frame.write_parquet(sink, compression=COMPRESSION)
        except _Stopped:
            return
        except BaseException as error:  # handed to the reading thread, raised there
            outcome = error
        while not stop.is_set():
            try:
                pieces.put(outcome, timeout=0.1)
            except queue.Full:
                continue
            return

    def read() -> Iterator[bytes]:
        while True:
            item = pieces.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, bytes)
            yield item

    writer = threading.Thread(target=write, name="accord-parquet-writer", daemon=True)
    writer.start()
    try:
        yield read()
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                pieces.get_nowait()
        writer.join()


@contextlib.contextmanager
def private_workspace() -> Iterator[Path]:
    """A temporary folder only this user can enter, removed with everything in it on exit.

    It is made under ``settings.VAULT_TEMP_DIR`` when that is set, else the system's temporary
    folder (``TMPDIR``)."""
    parent = getattr(settings, "VAULT_TEMP_DIR", None)
    with tempfile.TemporaryDirectory(
        prefix="accord-vault-", dir=str(parent) if parent else None
    ) as name:
        folder = Path(name)
        os.chmod(folder, 0o700)  # mkdtemp makes it 0700 already; say so rather than rely on it
        yield folder


def store_frame(
    *,
    by: Actor,
    organisation: Organisation,
    kind: ResourceKind | str,
    name: str,
    frame: pl.DataFrame | pl.LazyFrame,
    **store_kwargs: Any,
) -> VaultObject:
    """Store ``frame`` as a zstd Parquet vault object; ``store_kwargs`` go to ``actions.store``
    (``description``, ``chunk_size``, ``backend``, and whatever else it accepts)."""
    if not isinstance(frame, pl.DataFrame | pl.LazyFrame):
        raise TypeError("store_frame stores a polars DataFrame or LazyFrame.")
    if "source" in store_kwargs:
        raise TypeError("store_frame makes the source itself from the frame; do not pass source=.")
    # Refuse unknown arguments before spending time writing what may be gigabytes of Parquet.
    inspect.signature(actions.store).bind(
        by=by, organisation=organisation, kind=kind, name=name, source=b"", **store_kwargs
    )
    with _parquet_stream(frame) as parquet_bytes:
        return actions.store(
            by=by,
            organisation=organisation,
            kind=kind,
            name=name,
            source=parquet_bytes,
            **store_kwargs,
        )


def read_frame(
    object_id: uuid.UUID | str,
    *,
    by: Actor,
    decision: Decision,
    columns: list[str] | None = None,
    action: Action | str = Action.VIEW,
) -> pl.DataFrame:
    """The Parquet vault object ``object_id`` as a DataFrame (only ``columns``, if given).

    ``decision`` is checked before anything is read (``AccessDenied``); a changed, swapped or
    cut-short object raises its ``VaultIntegrityError`` and no frame is returned.
    """
    reader = queries.open_object(object_id, by=by, decision=decision, action=action)
    with private_workspace() as folder:
        path = folder / _FILE_NAME
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            for chunk in reader:  # the last chunk comes only once the SHA-256 has matched
                handle.write(chunk)
        # No memory map: the frame must own its data once the folder is gone.
        return pl.read_parquet(path, columns=columns, memory_map=False)
