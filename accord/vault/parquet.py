"""Dataframes in and out of the vault as Parquet.

Vault objects holding tables are Parquet files (zstd). ``store_frame`` writes a Polars frame as
Parquet into a private temporary folder (owner-only, removed as soon as the object is stored)
and streams that file into ``actions.store``; a ``LazyFrame`` is written with ``sink_parquet``,
so a frame larger than memory is never collected. ``read_frame`` takes an access decision,
streams the decrypted object into a private temporary folder and reads it with Polars; the
object's SHA-256 is checked when the stream ends, before Polars reads a byte, so a tampered
object raises its integrity error and never gives back part of a frame.

Plaintext exists only in memory and, for the length of one call, in that private folder.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import polars as pl
from django.conf import settings

from accord.access.decisions import Decision
from accord.access.enums import ResourceKind
from accord.audit.actor import Actor
from accord.organisations.models import Organisation

from . import actions, queries
from .models import VaultObject

COMPRESSION: Final = "zstd"
_FILE_NAME = "object.parquet"


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
    with private_workspace() as folder:
        path = folder / _FILE_NAME
        if isinstance(frame, pl.LazyFrame):
            frame.sink_parquet(path, compression=COMPRESSION)
        else:
            frame.write_parquet(path, compression=COMPRESSION)
        with path.open("rb") as handle:
            return actions.store(
                by=by,
                organisation=organisation,
                kind=kind,
                name=name,
                source=handle,
                **store_kwargs,
            )


def read_frame(
    object_id: uuid.UUID | str,
    *,
    by: Actor,
    decision: Decision,
    columns: list[str] | None = None,
) -> pl.DataFrame:
    """The Parquet vault object ``object_id`` as a DataFrame (only ``columns``, if given).

    ``decision`` is checked before anything is read (``AccessDenied``); a changed, swapped or
    cut-short object raises its ``VaultIntegrityError`` and no frame is returned.
    """
    reader = queries.open_object(object_id, by=by, decision=decision)
    with private_workspace() as folder:
        path = folder / _FILE_NAME
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            for chunk in reader:  # the last chunk comes only once the SHA-256 has matched
                handle.write(chunk)
        # No memory map: the frame must own its data once the folder is gone.
        return pl.read_parquet(path, columns=columns, memory_map=False)
