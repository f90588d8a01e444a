"""Frames in and out of the vault as Parquet: typed round trips, column selection, lazy frames
stored without collecting, the decision a read needs, tampering, and the private temporary
folder that holds plaintext only while a call runs."""

from __future__ import annotations

import contextlib
import io
import stat
import threading
from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from accord.access.decisions import decide
from accord.access.enums import Action, ResourceKind
from accord.access.exceptions import AccessDenied
from accord.audit.actor import Actor
from accord.organisations.actors import actor_for
from accord.vault import crypto, parquet, queries
from accord.vault.exceptions import ChecksumMismatch, VaultIntegrityError
from accord.vault.models import VaultObject
from tests.factories import MembershipFactory

from .conftest import PURPOSE, permit, records, rewrite

pytestmark = pytest.mark.django_db


def pupils() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "upn": ["00123", "0", None, "A123456789012", "007"],
            "born": [
                date(2015, 9, 1),
                date(2016, 2, 29),
                None,
                date(2014, 12, 31),
                date(2015, 1, 1),
            ],
            "meals": [3, 0, None, -1, 2**40],
            "school": ["St Mary’s", "", "  spaced  ", None, "Ysgol Gymraeg"],  # noqa: RUF001
        },
        schema={"upn": pl.String, "born": pl.Date, "meals": pl.Int64, "school": pl.String},
    )


def store(actor: Actor, organisation, frame, **kwargs) -> VaultObject:
    return parquet.store_frame(
        by=actor,
        organisation=organisation,
        kind=ResourceKind.SUBMISSION,
        name="Pupils, autumn census",
        frame=frame,
        **kwargs,
    )


def read(actor: Actor, obj: VaultObject, **kwargs) -> pl.DataFrame:
    return parquet.read_frame(obj.id, by=actor, decision=permit(actor, obj), **kwargs)


@pytest.fixture
def workspaces(monkeypatch) -> list[dict]:
    """Each private folder the module makes: its path, and its mode and files just before it
    is removed (that is, while in use)."""
    seen: list[dict] = []
    real = parquet.private_workspace

    @contextlib.contextmanager
    def watched():
        with real() as folder:
            entry: dict = {"path": folder}
            seen.append(entry)
            try:
                yield folder
            finally:
                entry["mode"] = stat.S_IMODE(folder.stat().st_mode)
                entry["files"] = sorted(p.name for p in folder.iterdir())

    monkeypatch.setattr(parquet, "private_workspace", watched)
    return seen


def test_a_typed_frame_round_trips(member, workspaces) -> None:
    organisation, actor = member
    frame = pupils()
    obj = store(actor, organisation, frame)
    back = read(actor, obj)
    assert_frame_equal(back, frame)
    assert back["upn"].to_list()[0] == "00123"  # leading zeros kept: strings stay strings
    assert back.schema == frame.schema
    assert VaultObject.objects.get(pk=obj.pk).size == obj.size > 0


def test_the_object_is_zstd_parquet(member) -> None:
    organisation, actor = member
    frame = pupils()
    obj = store(actor, organisation, frame)
    raw = queries.open_object(obj.id, by=actor, decision=permit(actor, obj)).read_all()
    assert raw[:4] == raw[-4:] == b"PAR1"
    zstd, plain = io.BytesIO(), io.BytesIO()
    frame.write_parquet(zstd, compression="zstd")
    frame.write_parquet(plain, compression="uncompressed")
    assert raw == zstd.getvalue() != plain.getvalue()


def test_only_the_columns_asked_for(member) -> None:
    organisation, actor = member
    obj = store(actor, organisation, pupils())
    back = read(actor, obj, columns=["upn", "meals"])
    assert back.columns == ["upn", "meals"]
    assert_frame_equal(back, pupils().select("upn", "meals"))


def test_a_lazy_frame_is_stored_without_collecting(member, monkeypatch) -> None:
    organisation, actor = member
    lazy = (
        pl.LazyFrame({"n": range(10_000)})
        .with_columns(upn=pl.format("{}", pl.col("n")).str.zfill(8), double=pl.col("n") * 2)
        .filter(pl.col("n") % 3 == 0)
    )
    expected = lazy.collect()

    def refuse(*args, **kwargs):
        raise AssertionError("store_frame collected the lazy frame")

    monkeypatch.setattr(pl.LazyFrame, "collect", refuse)
    obj = store(actor, organisation, lazy, chunk_size=4096)
    monkeypatch.undo()
    assert_frame_equal(read(actor, obj), expected)
    assert obj.chunk_size == 4096


def test_extra_arguments_go_to_store_and_unknown_ones_are_refused_first(
    member, monkeypatch
) -> None:
    organisation, actor = member
    obj = store(actor, organisation, pupils(), description="Census extract for checking")
    assert obj.description == "Census extract for checking"
    started: list[object] = []
    real = parquet._parquet_stream
    monkeypatch.setattr(
        parquet, "_parquet_stream", lambda frame: started.append(frame) or real(frame)
    )
    with pytest.raises(TypeError):
        store(actor, organisation, pupils(), no_such_argument=1)
    with pytest.raises(TypeError):
        store(actor, organisation, pupils(), source=b"")
    with pytest.raises(TypeError):
        store(actor, organisation, {"not": "a frame"})
    assert started == []  # refused before any Parquet was written
    assert VaultObject.objects.count() == 1


def test_reading_needs_a_permit_and_a_deny_reads_nothing(member, workspaces) -> None:
    organisation, actor = member
    obj = store(actor, organisation, pupils())
    stranger = MembershipFactory()
    outsider = actor_for(stranger.user, stranger)
    denied = decide(
        actor=outsider, action=Action.VIEW, resource=queries.resource_for(obj), purpose=PURPOSE
    )
    assert denied.denied
    before = len(workspaces)
    with pytest.raises(AccessDenied):
        parquet.read_frame(obj.id, by=outsider, decision=denied)
    # A permit given to someone else is no use either.
    with pytest.raises(AccessDenied):
        parquet.read_frame(obj.id, by=outsider, decision=permit(actor, obj))
    assert len(workspaces) == before  # refused before any folder was made or byte decrypted


def test_a_flipped_byte_is_an_integrity_error_not_a_half_frame(member, workspaces) -> None:
    organisation, actor = member
    obj = store(actor, organisation, pupils(), chunk_size=256)
    parts = records(obj)
    assert len(parts) > 2
    middle = bytearray(parts[1])
    middle[40] ^= 0x01
    parts[1] = bytes(middle)
    rewrite(obj, parts)
    with pytest.raises(VaultIntegrityError):
        read(actor, obj)
    assert not workspaces[-1]["path"].exists()


def test_a_checksum_mismatch_withholds_the_frame(member, workspaces) -> None:
    organisation, actor = member
    obj = store(actor, organisation, pupils(), chunk_size=256)
    VaultObject.objects.filter(pk=obj.pk).update(sha256="0" * 64)
    with pytest.raises(ChecksumMismatch, match=str(obj.id)):
        read(actor, obj)
    # The final chunk (Parquet's footer) never reached the file Polars would read.
    assert "object.parquet" in workspaces[-1]["files"]
    assert not workspaces[-1]["path"].exists()


def test_storing_writes_no_plaintext_file_and_reading_cleans_up(member, workspaces) -> None:
    organisation, actor = member
    obj = store(actor, organisation, pupils())
    store(actor, organisation, pupils().lazy())
    assert workspaces == []  # Parquet streams straight into the encryptor
    read(actor, obj)
    assert len(workspaces) == 1
    assert workspaces[0]["mode"] == 0o700
    assert workspaces[0]["files"] == ["object.parquet"]
    assert not workspaces[0]["path"].exists()


def _writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "accord-parquet-writer"]


def test_a_failing_frame_stores_nothing_and_leaves_no_thread(member) -> None:
    organisation, actor = member
    with pytest.raises(pl.exceptions.ColumnNotFoundError):
        store(actor, organisation, pl.LazyFrame({"a": [1, 2]}).select(pl.col("missing")))
    assert not VaultObject.objects.exists()
    assert _writer_threads() == []


def test_a_failing_store_stops_the_parquet_writer(member, monkeypatch) -> None:
    """The encrypting side fails after a few pieces of a large frame: the writer thread is
    stopped rather than left blocked on a full queue, and nothing is stored."""
    organisation, actor = member
    big = pl.select(n=pl.int_range(3_000_000), h=pl.int_range(3_000_000).hash(7))
    taken = 0

    def broken_rechunk(source, chunk_size):
        nonlocal taken
        for piece in source:
            taken += 1
            if taken == 2:
                raise OSError("disk full")
            yield piece, False

    monkeypatch.setattr(crypto, "rechunk", broken_rechunk)
    with pytest.raises(OSError, match="disk full"):
        store(actor, organisation, big)
    assert not VaultObject.objects.exists()
    assert _writer_threads() == []


def test_the_folder_is_made_under_vault_temp_dir_when_set(member, settings, tmp_path) -> None:
    settings.VAULT_TEMP_DIR = tmp_path / "private"
    settings.VAULT_TEMP_DIR.mkdir(mode=0o700)
    with parquet.private_workspace() as folder:
        assert folder.parent == settings.VAULT_TEMP_DIR
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert list(settings.VAULT_TEMP_DIR.iterdir()) == []
