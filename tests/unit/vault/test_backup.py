"""`accord backup` and `accord restore`: a round trip brings back the rows, the objects and a
verifiable audit chain; an object crypto-shredded after the backup stays deleted; a damaged or
altered archive, or a target that is not empty, is refused with nothing changed; and no archive
ever holds key material."""

from __future__ import annotations

import base64
import gzip
import json
import tarfile
import threading
import uuid
from pathlib import Path

import boto3
import pytest
from django.core.management import call_command
from django.db import connection

from accord.access.enums import ResourceKind
from accord.access.transform import pseudonymisation_key, pseudonymisation_key_id
from accord.audit import triggers
from accord.audit.actor import Actor
from accord.audit.checkpoints import create_checkpoint
from accord.audit.enums import GENESIS_HASH
from accord.audit.models import AuditCheckpoint, AuditEvent, AuditHead
from accord.audit.verification import verify_chain
from accord.cli.main import main
from accord.organisations.models import User
from accord.vault import actions, backup, keys
from accord.vault.exceptions import ObjectDeleted
from accord.vault.models import DeletionCertificate, VaultObject, VaultObjectSource
from tests.factories import PASSWORD

from .conftest import blob_path, read, store
from .test_s3 import REGION, s3, s3_endpoint  # noqa: F401  (fixtures)

transactional = pytest.mark.django_db(transaction=True)
database = pytest.mark.django_db

BY = Actor.system("test backup")
REASON = "Retention period ended under the free school meals agreement"
KEPT = bytes(range(256)) * 3  # several 64-byte chunks
DOOMED = b"to be forgotten after the backup " * 9


def wipe_database() -> None:
    """Empty every table, leaving what `migrate` leaves: content types, permissions and the
    audit chain's head row (the append-only triggers are lifted just for the flush)."""
    triggers.remove(connection)
    try:
        call_command("flush", interactive=False, verbosity=0)
    finally:
        AuditHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS_HASH})
        triggers.install(connection)


def members(archive: Path) -> list[str]:
    with tarfile.open(archive) as tar:
        return tar.getnames()


def flip_byte(archive: Path, member: str) -> None:
    """Change one byte in the middle of a member's data, as damage or tampering would."""
    with tarfile.open(archive) as tar:
        info = tar.getmember(member)
        offset = info.offset_data + info.size // 2
    with archive.open("r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0x01]))


# The round trip -------------------------------------------------------------------------------


@transactional
def test_a_round_trip_restores_everything_but_what_was_shredded_since(
    member, tmp_path, settings
) -> None:
    organisation, actor = member
    kept = store(actor, organisation, KEPT, name="Kept")
    empty = store(actor, organisation, b"", name="Empty")
    doomed = store(actor, organisation, DOOMED, name="Doomed")
    derived = actions.store(
        by=actor,
        organisation=organisation,
        kind=ResourceKind.SUBMISSION,
        name="Derived",
        source=[b"made from Kept"],
        chunk_size=64,
        sources=[kept],
    )
    actions.place_legal_hold(by=actor, obj=derived, reason="Inquiry into free school meals")
    create_checkpoint(by=BY)
    events_at_backup = list(AuditEvent.objects.order_by("seq").values_list("seq", "hash"))
    objects_at_backup = list(VaultObject.objects.order_by("id").values())

    archive = tmp_path / "accord.tar"
    report = backup.create_backup(archive, by=BY)
    assert report.objects == 4
    assert report.missing_blobs == []
    assert report.audit_head_seq == events_at_backup[-1][0]

    # After the backup: one object is crypto-shredded, then everything is lost but the keys.
    actions.crypto_shred(by=actor, obj=doomed, reason=REASON)
    assert not keys.key_path(doomed.id).exists()
    wipe_database()
    settings.VAULT_DIR = tmp_path / "fresh-blob-store"
    assert VaultObject.objects.count() == 0

    restored = backup.restore_backup(archive, by=Actor.system("test restore"))

    # Everything live is back, byte for byte, and the shredded object stays deleted.
    assert restored.objects_restored == 3
    assert [item.object_id for item in restored.found_shredded] == [str(doomed.id)]
    assert read(actor, kept) == KEPT
    assert read(actor, empty) == b""
    assert read(actor, derived) == b"made from Kept"
    with pytest.raises(ObjectDeleted) as raised:
        read(actor, doomed)
    message = str(raised.value)
    assert "Its key was destroyed, so its data cannot be recovered." in message
    assert ": Crypto-shredded after the backup of " in message
    assert not blob_path(doomed).exists()

    # The rows are as they were (bar the shredded object's deletion), passwords included.
    after = {row["id"]: row for row in VaultObject.objects.order_by("id").values()}
    for row in objects_at_backup:
        if row["id"] == doomed.id:
            assert after[row["id"]]["deleted_at"] is not None
            assert after[row["id"]]["deleted_by"] == "system"
        else:
            assert after[row["id"]] == row
    assert VaultObjectSource.objects.filter(derived=derived, source=kept).exists()
    assert User.objects.get(pk=actor.user_id).check_password(PASSWORD)

    # The audit chain is the one backed up, plus the restore's own events, and verifies
    # (signed checkpoint included); the shredding after the backup is not in it.
    chain = list(AuditEvent.objects.order_by("seq").values_list("seq", "hash"))
    assert chain[: len(events_at_backup)] == events_at_backup
    assert AuditCheckpoint.objects.count() == 1
    assert not AuditEvent.objects.filter(action="vault.object.shredded").exists()
    found = AuditEvent.objects.get(action="vault.object.found_shredded")
    assert found.details["object_id"] == str(doomed.id)
    # The restored log certifies the deletion, and the controller can find the certificate.
    certificate = DeletionCertificate.objects.get(object_id=doomed.id)
    assert certificate.audit_seq == found.seq
    assert list(certificate.organisations.all()) == [organisation]
    done = AuditEvent.objects.get(action="vault.backup.restored")
    assert done.seq == found.seq + 1 == len(events_at_backup) + 2
    assert done.details["manifest_sha256"] == report.manifest_sha256
    assert restored.verification is not None
    assert restored.verification.ok
    result = verify_chain()
    assert result.ok, result.problems
    assert result.signatures_checked >= 2  # the stored checkpoint and its event

    # New rows and events carry on from the restored ones.
    another = store(actor, organisation, b"after the restore", name="After")
    assert read(actor, another) == b"after the restore"
    assert verify_chain().ok


@transactional
def test_the_commands_round_trip(member, tmp_path, settings, capsys) -> None:
    organisation, actor = member
    kept = store(actor, organisation, KEPT, name="Kept")
    doomed = store(actor, organisation, DOOMED, name="Doomed")
    archive = tmp_path / "accord.tar"

    assert main(["backup", str(archive)]) == 0
    out = capsys.readouterr().out
    assert "and 2 encrypted object(s)" in out
    assert "key store and master key are not in this backup" in out
    assert AuditEvent.objects.filter(action="vault.backup.created").count() == 1

    assert main(["restore", "--check", str(archive)]) == 0
    assert "is complete and unchanged" in capsys.readouterr().out

    actions.crypto_shred(by=actor, obj=doomed, reason=REASON)
    wipe_database()
    settings.VAULT_DIR = tmp_path / "fresh-blob-store"

    assert main(["restore", str(archive)]) == 0
    out = capsys.readouterr().out
    assert "Restored the backup taken on" in out
    assert "1 object(s) were crypto-shredded after the backup was taken" in out
    assert f"Doomed ({doomed.id})" in out
    assert "The restored audit chain checks out" in out
    assert read(actor, kept) == KEPT

    # Restoring again is refused: the database and blob store are no longer empty.
    assert main(["restore", str(archive)]) == 2
    err = capsys.readouterr().err
    assert "the database is not empty" in err
    assert "Nothing was restored." in err


@transactional
def test_a_round_trip_through_s3(member, tmp_path, settings, s3) -> None:  # noqa: F811
    organisation, actor = member
    kept = store(actor, organisation, KEPT, name="Kept")
    archive = tmp_path / "accord.tar"
    backup.create_backup(archive, by=BY)
    assert members(archive)[1] == f"blobs/{kept.blob_key}"

    wipe_database()
    client, _ = s3
    bucket = f"accord-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    endpoint = client.meta.endpoint_url
    settings.VAULT_URL = f"s3://{bucket}/vault?endpoint_url={endpoint}&region={REGION}"
    restored = backup.restore_backup(archive, by=BY)
    assert restored.objects_restored == 1
    assert read(actor, kept) == KEPT
    listing = boto3.client("s3", endpoint_url=endpoint, region_name=REGION).list_objects_v2(
        Bucket=bucket
    )
    assert [item["Key"] for item in listing["Contents"]] == [f"vault/{kept.blob_key}"]

    # A bucket that is not empty is refused like a folder that is not.
    wipe_database()
    with pytest.raises(backup.TargetNotReady, match=f"s3://{bucket}/vault/ is not empty"):
        backup.restore_backup(archive, by=BY)


@transactional
def test_restore_refuses_a_key_store_with_no_keys(member, tmp_path, settings) -> None:
    organisation, actor = member
    store(actor, organisation, KEPT)
    archive = tmp_path / "accord.tar"
    backup.create_backup(archive, by=BY)
    wipe_database()
    settings.VAULT_DIR = tmp_path / "fresh-blob-store"
    settings.VAULT_KEYSTORE_DIR = tmp_path / "empty-key-store"

    with pytest.raises(backup.TargetNotReady) as raised:
        backup.restore_backup(archive, by=BY)
    message = str(raised.value)
    assert "holds no keys" in message
    assert "restore it from its own backup first" in message
    assert VaultObject.objects.count() == 0
    assert AuditEvent.objects.count() == 0
    assert not (tmp_path / "fresh-blob-store").exists()


@transactional
def test_the_backup_is_one_snapshot_while_accord_keeps_writing(member, tmp_path) -> None:
    organisation, actor = member
    store(actor, organisation, KEPT, name="Before")
    head_at_start = AuditHead.objects.get().seq
    written: list[VaultObject] = []

    def write_meanwhile(stage: str, done: int, total: int) -> None:
        """Once the snapshot is taken, another connection stores an object and commits."""
        if stage != backup.STAGE_ROWS or written:
            return

        def work() -> None:
            try:
                written.append(store(actor, organisation, b"during", name="During"))
            finally:
                connection.close()

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()

    archive = tmp_path / "accord.tar"
    backup.create_backup(archive, by=BY, progress=write_meanwhile)

    assert written  # the writer was not blocked by the backup
    manifest = backup.check_archive(archive).manifest
    assert manifest["database"]["counts"]["vault.vaultobject"] == 1
    assert manifest["audit_head"]["seq"] == head_at_start
    with tarfile.open(archive) as tar:
        dump = tar.extractfile("database.jsonl.gz")
        assert dump is not None
        with gzip.open(dump) as lines:
            rows = [json.loads(line) for line in lines]
    assert sum(row["model"] == "audit.auditevent" for row in rows) == head_at_start
    assert str(written[0].id) not in {str(row["pk"]) for row in rows}
    assert f"blobs/{written[0].blob_key}" not in manifest["members"]


# What an archive holds ------------------------------------------------------------------------


@database
def test_the_archive_holds_the_database_the_blobs_and_a_manifest(member, tmp_path) -> None:
    organisation, actor = member
    first = store(actor, organisation, KEPT)
    second = store(actor, organisation, b"second")
    archive = tmp_path / "accord.tar"
    report = backup.create_backup(archive, by=BY)

    names = members(archive)
    assert names[0] == "database.jsonl.gz"
    assert sorted(names[1:3]) == sorted(f"blobs/{obj.blob_key}" for obj in (first, second))
    assert names[3:] == ["manifest.json", "manifest.sha256"]
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        blob = tar.extractfile(f"blobs/{first.blob_key}").read()  # type: ignore[union-attr]
    assert blob == blob_path(first).read_bytes()
    assert manifest["format"] == "accord-backup"
    assert manifest["format_version"] == 1
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["database"]["counts"]["vault.vaultobject"] == 2
    assert "sessions.session" not in manifest["database"]["counts"]
    assert manifest["audit_head"]["seq"] == AuditHead.objects.get().seq - 1  # before the record
    assert set(manifest["members"]) == set(names[:3])
    assert "never in an Accord backup" in manifest["keys"]
    event = AuditEvent.objects.get(action="vault.backup.created")
    assert event.details["manifest_sha256"] == report.manifest_sha256
    assert event.actor_label == "test backup"


@database
def test_the_archive_holds_no_key_material(member, tmp_path) -> None:
    organisation, actor = member
    objects = [store(actor, organisation, KEPT + bytes([n])) for n in range(3)]
    archive = tmp_path / "accord.tar"
    backup.create_backup(archive, by=BY)
    raw = archive.read_bytes()

    master = keys.master_key().key
    for secret in (master, base64.b64encode(master)):
        assert secret not in raw
    for obj in objects:
        key_file = keys.key_path(obj.id).read_bytes()
        document = json.loads(key_file)
        assert key_file not in raw
        assert document["wrapped_key"].encode() not in raw
        assert base64.b64decode(document["wrapped_key"]) not in raw
        assert keys.load_data_key(obj.id, obj.version) not in raw
    assert KEPT not in raw  # and no plaintext
    assert not any("key" in name.lower() for name in members(archive))


@database
def test_the_archive_holds_no_pseudonymisation_key(member, tmp_path) -> None:
    """Pseudonymisation keys live in the key store (its pseudonym/ folder), so, like every
    other key, they never go into a backup with the data."""
    organisation, actor = member
    store(actor, organisation, KEPT)
    key = pseudonymisation_key("agreement-1")
    path = keys.pseudonymisation_key_path(pseudonymisation_key_id("agreement-1"))
    on_disk = path.read_bytes()
    archive = tmp_path / "accord.tar"
    backup.create_backup(archive, by=BY)
    raw = archive.read_bytes()

    document = json.loads(on_disk)
    for secret in (
        on_disk,
        key,
        document["wrapped_key"].encode(),
        base64.b64decode(document["wrapped_key"]),
        str(pseudonymisation_key_id("agreement-1")).encode(),
    ):
        assert secret not in raw
    assert not any("pseudonym" in name or "key" in name.lower() for name in members(archive))
    assert path.read_bytes() == on_disk  # read nothing, changed nothing


@transactional
def test_restore_leaves_pseudonymisation_keys_alone_and_does_not_count_them(
    member, tmp_path, settings
) -> None:
    """Restore reads the key store to tell shredded objects from live ones: pseudonymisation
    keys are not objects' keys, so a key store holding only them still counts as holding no
    keys, and restore never changes them."""
    organisation, actor = member
    store(actor, organisation, KEPT)
    archive = tmp_path / "accord.tar"
    backup.create_backup(archive, by=BY)
    wipe_database()
    settings.VAULT_DIR = tmp_path / "fresh-blob-store"
    settings.VAULT_KEYSTORE_DIR = tmp_path / "key-store-without-object-keys"
    key = pseudonymisation_key("agreement-1")
    path = keys.pseudonymisation_key_path(pseudonymisation_key_id("agreement-1"))
    on_disk = path.read_bytes()

    with pytest.raises(backup.TargetNotReady, match="holds no keys"):
        backup.restore_backup(archive, by=BY)
    assert path.read_bytes() == on_disk
    assert pseudonymisation_key("agreement-1") == key


@database
def test_a_blob_gone_while_the_backup_runs_is_noted_not_fatal(member, tmp_path, capsys) -> None:
    organisation, actor = member
    kept = store(actor, organisation, KEPT)
    gone = store(actor, organisation, DOOMED)
    blob_path(gone).unlink()  # as if shredded between the snapshot and the copy

    archive = tmp_path / "accord.tar"
    assert main(["backup", str(archive)]) == 0
    out = capsys.readouterr().out
    assert "1 object(s) were deleted while the backup was being written" in out
    assert gone.blob_key in out
    archived = backup.check_archive(archive)
    assert archived.missing_blobs == [gone.blob_key]
    assert archived.blob_keys == [kept.blob_key]


@database
def test_backup_refuses_an_existing_file_and_the_key_store(member, tmp_path, settings, capsys):
    archive = tmp_path / "accord.tar"
    archive.write_bytes(b"something precious")
    assert main(["backup", str(archive)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err
    assert "Nothing was written." in err
    assert archive.read_bytes() == b"something precious"

    Path(settings.VAULT_KEYSTORE_DIR).mkdir(parents=True, exist_ok=True)
    with pytest.raises(backup.BackupError, match="inside the vault's key store"):
        backup.create_backup(Path(settings.VAULT_KEYSTORE_DIR) / "accord.tar", by=BY)
    with pytest.raises(backup.BackupError, match="does not exist"):
        backup.create_backup(tmp_path / "no-such-folder" / "accord.tar", by=BY)
    assert list(tmp_path.iterdir()) == [archive]  # no temporary file left behind


# Refusals -------------------------------------------------------------------------------------


@database
def test_restore_refuses_a_target_that_is_not_empty(member, tmp_path, capsys) -> None:
    organisation, actor = member
    obj = store(actor, organisation, KEPT)
    archive = tmp_path / "accord.tar"
    backup.create_backup(archive, by=BY)
    events = AuditEvent.objects.count()

    with pytest.raises(backup.TargetNotReady) as raised:
        backup.restore_backup(archive, by=BY)
    message = str(raised.value)
    assert "freshly migrated database and an empty blob store" in message
    assert "the database is not empty" in message
    assert "1 vault object" in message
    assert "the blob store" in message
    assert "is not empty" in message
    assert "Nothing was restored." in message

    assert main(["restore", str(archive)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("accord restore: Accord restores only into a freshly migrated")
    assert "Traceback" not in err
    assert AuditEvent.objects.count() == events
    assert read(actor, obj) == KEPT


@database
@pytest.mark.parametrize("member_name", ["database.jsonl.gz", "blob", "manifest.json"])
def test_an_altered_archive_is_refused(member, tmp_path, capsys, member_name: str) -> None:
    organisation, actor = member
    obj = store(actor, organisation, KEPT)
    archive = tmp_path / "accord.tar"
    backup.create_backup(archive, by=BY)
    name = f"blobs/{obj.blob_key}" if member_name == "blob" else member_name
    flip_byte(archive, name)

    with pytest.raises(backup.ArchiveDamaged) as raised:
        backup.check_archive(archive)
    message = str(raised.value)
    assert "has been altered or damaged" in message
    assert "Do not restore from it" in message
    if member_name != "manifest.json":
        assert f"{name} does not match the SHA-256 its manifest records" in message

    for command in (["restore", "--check", str(archive)], ["restore", str(archive)]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert "has been altered or damaged" in err
        assert "Traceback" not in err


@database
def test_a_cut_short_or_foreign_file_is_refused(member, tmp_path, capsys) -> None:
    organisation, actor = member
    store(actor, organisation, KEPT)
    archive = tmp_path / "accord.tar"
    backup.create_backup(archive, by=BY)
    short = tmp_path / "short.tar"
    with tarfile.open(archive) as tar:
        cut = tar.getmember("manifest.json").offset - 100  # inside the last blob
    short.write_bytes(archive.read_bytes()[:cut])
    with pytest.raises(backup.ArchiveDamaged, match="cut short or damaged"):
        backup.check_archive(short)

    text = tmp_path / "notes.txt"
    text.write_text("not a backup\n" * 100)
    assert main(["restore", str(text)]) == 2
    assert "is not an Accord backup" in capsys.readouterr().err

    assert main(["restore", str(tmp_path / "missing.tar")]) == 2
    assert "There is no file" in capsys.readouterr().err


def test_migrations_must_match() -> None:
    assert backup.migration_problems(["audit.0001"], ["audit.0001"], "0.1.0") == []
    assert "has not been set up" in backup.migration_problems(["audit.0001"], [], "0.1.0")[0]
    behind = backup.migration_problems(["audit.0001", "audit.0002"], ["audit.0001"], "0.1.0")
    assert "lacks 1 migration(s)" in behind[0]
    assert "accord manage migrate" in behind[0]
    ahead = backup.migration_problems(["audit.0001"], ["audit.0001", "audit.0002"], "0.1.0")
    assert "Accord 0.1.0, which took the backup" in ahead[0]


@database
def test_the_commands_are_registered() -> None:
    from accord.cli.main import build_parser
    from accord.vault import backup_cli

    parser = build_parser()
    assert parser.parse_args(["backup", "out.tar"]).handler is backup_cli.handle_backup
    args = parser.parse_args(["restore", "--check", "in.tar"])
    assert args.handler is backup_cli.handle_restore
    assert args.check
