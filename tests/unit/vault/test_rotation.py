"""Master key rotation re-wraps every data key under the new key, never touches the data, can
be stopped at any moment and run again, and keeps every object readable throughout."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import polars as pl
import pytest

from accord.access.transform import pseudonymisation_key, pseudonymisation_key_id, pseudonymise
from accord.audit.actor import Actor
from accord.audit.models import AuditEvent
from accord.cli.main import main
from accord.vault import keys
from accord.vault.exceptions import WrongMasterKey
from accord.vault.rotation import NothingToRotateWith, rotate_master_key

from .conftest import blob_path, read, store

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("accord vault rotate-master-key")


def key_file(folder: Path, name: str) -> tuple[Path, keys.MasterKey]:
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / name
    return path, keys.write_new_master_key_file(path)


@pytest.fixture
def two_keys(tmp_path: Path):
    old_path, old = key_file(tmp_path / "secrets", "old.key")
    new_path, new = key_file(tmp_path / "secrets", "new.key")
    return old_path, old, new_path, new


@pytest.fixture
def vault(member, settings, two_keys, monkeypatch):
    """Five objects stored under the old key; then Accord configured as the runbook says: the
    new key current, the old one in the key ring."""
    organisation, actor = member
    old_path, _old, new_path, _new = two_keys
    settings.VAULT_MASTER_KEY = ""
    settings.VAULT_MASTER_KEY_FILE = old_path
    monkeypatch.delenv(keys.PREVIOUS_FILES_VARIABLE, raising=False)
    objects = {
        store(actor, organisation, f"row {i} ".encode() * (i + 20), name=f"Object {i}"): (
            f"row {i} ".encode() * (i + 20)
        )
        for i in range(5)
    }
    blobs = {obj.id: blob_path(obj).read_bytes() for obj in objects}
    settings.VAULT_MASTER_KEY_FILE = new_path
    monkeypatch.setenv(keys.PREVIOUS_FILES_VARIABLE, str(old_path))
    return actor, objects, blobs


def wrapped_under(obj) -> str:
    return json.loads(keys.key_path(obj.id).read_text())["master_key_id"]


def only_new_key(monkeypatch) -> None:
    monkeypatch.delenv(keys.PREVIOUS_FILES_VARIABLE)


def test_rotation_rewraps_every_key_and_leaves_the_data_alone(vault, two_keys, monkeypatch) -> None:
    actor, objects, blobs = vault
    _, old, _, new = two_keys
    result = rotate_master_key(by=SYSTEM, new=new, old=[old])
    assert (result.rewrapped, result.already_done, result.failed) == (5, 0, [])
    for obj in objects:
        assert blob_path(obj).read_bytes() == blobs[obj.id]  # data never touched
        text = keys.key_path(obj.id).read_text()
        assert old.id not in text
        assert wrapped_under(obj) == new.id
    only_new_key(monkeypatch)
    for obj, data in objects.items():
        assert read(actor, obj) == data


def test_rotation_rewraps_pseudonymisation_keys_and_pseudonyms_stay_the_same(
    member, settings, two_keys, monkeypatch
) -> None:
    organisation, actor = member
    old_path, old, new_path, new = two_keys
    settings.VAULT_MASTER_KEY = ""
    settings.VAULT_MASTER_KEY_FILE = old_path
    monkeypatch.delenv(keys.PREVIOUS_FILES_VARIABLE, raising=False)
    obj = store(actor, organisation, b"an object's data", name="Object")
    key = pseudonymisation_key("agreement-1")
    frame = pl.DataFrame({"nhs": ["943 476 5919", "4010232137"]})
    before = pseudonymise(frame, {"nhs": "nhs_number"}, key)
    path = keys.pseudonymisation_key_path(pseudonymisation_key_id("agreement-1"))
    settings.VAULT_MASTER_KEY_FILE = new_path
    monkeypatch.setenv(keys.PREVIOUS_FILES_VARIABLE, str(old_path))

    assert path in list(keys.key_files())
    result = rotate_master_key(by=SYSTEM, new=new, old=[old])
    assert (result.rewrapped, result.failed) == (2, [])  # the object's key and the agreement's
    document = json.loads(path.read_text())
    assert document["master_key_id"] == new.id
    assert document["purpose"] == "pseudonymisation"

    only_new_key(monkeypatch)
    assert pseudonymisation_key("agreement-1") == key
    assert pseudonymise(frame, {"nhs": "nhs_number"}, pseudonymisation_key("agreement-1")).equals(
        before
    )
    assert read(actor, obj) == b"an object's data"
    rerun = rotate_master_key(by=SYSTEM, new=new, old=[old])
    assert (rerun.rewrapped, rerun.already_done) == (0, 2)


def test_without_rotation_the_new_key_alone_cannot_read(vault, monkeypatch) -> None:
    actor, objects, _ = vault
    only_new_key(monkeypatch)
    with pytest.raises(WrongMasterKey, match="ACCORD_MASTER_KEY_PREVIOUS_FILES"):
        read(actor, next(iter(objects)))


def test_an_interrupted_rotation_keeps_everything_readable_and_a_rerun_finishes(
    vault, two_keys, monkeypatch
) -> None:
    actor, objects, blobs = vault
    _, old, _, new = two_keys
    partial = rotate_master_key(by=SYSTEM, new=new, old=[old], limit=2)
    assert partial.rewrapped == 2
    assert partial.stopped_early

    def stop_after_third(done: int, total: int) -> None:
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rotate_master_key(by=SYSTEM, new=new, old=[old], progress=stop_after_third)
    under = [wrapped_under(obj) for obj in objects]
    assert under.count(new.id) == 3
    assert under.count(old.id) == 2
    for obj, data in objects.items():  # with the key ring, all readable mid-rotation
        assert read(actor, obj) == data

    rerun = rotate_master_key(by=SYSTEM, new=new, old=[old])
    assert (rerun.rewrapped, rerun.already_done, rerun.failed) == (2, 3, [])
    only_new_key(monkeypatch)
    for obj, data in objects.items():
        assert read(actor, obj) == data
        assert blob_path(obj).read_bytes() == blobs[obj.id]
    events = AuditEvent.objects.filter(action="vault.master_key.rotated").order_by("seq")
    assert [e.details["stopped_early"] for e in events] == [True, True, False]
    assert events.last().details["rewrapped"] == 2


def test_a_wrong_old_key_is_refused_and_changes_nothing(vault, two_keys, tmp_path) -> None:
    _, objects, _ = vault
    _, _, _, new = two_keys
    _, stranger = key_file(tmp_path / "secrets", "stranger.key")
    before = {obj.id: keys.key_path(obj.id).read_bytes() for obj in objects}
    with pytest.raises(NothingToRotateWith, match="None of the key files is wrapped under"):
        rotate_master_key(by=SYSTEM, new=new, old=[stranger])
    with pytest.raises(NothingToRotateWith, match="same as the new one"):
        rotate_master_key(by=SYSTEM, new=new, old=[new])
    assert {obj.id: keys.key_path(obj.id).read_bytes() for obj in objects} == before


def test_rerunning_after_completion_does_nothing(vault, two_keys) -> None:
    _, objects, _ = vault
    _, old, _, new = two_keys
    rotate_master_key(by=SYSTEM, new=new, old=[old])
    after = {obj.id: keys.key_path(obj.id).read_bytes() for obj in objects}
    again = rotate_master_key(by=SYSTEM, new=new, old=[old])
    assert (again.rewrapped, again.already_done, again.failed) == (0, 5, [])
    assert {obj.id: keys.key_path(obj.id).read_bytes() for obj in objects} == after


def test_a_damaged_key_file_is_reported_and_left_alone(vault, two_keys) -> None:
    _, objects, _ = vault
    _, old, _, new = two_keys
    damaged = next(iter(objects))
    document = json.loads(keys.key_path(damaged.id).read_text())
    wrapped = bytearray(base64.b64decode(document["wrapped_key"]))
    wrapped[0] ^= 1
    document["wrapped_key"] = base64.b64encode(bytes(wrapped)).decode()
    keys.key_path(damaged.id).write_text(json.dumps(document))
    before = keys.key_path(damaged.id).read_bytes()
    result = rotate_master_key(by=SYSTEM, new=new, old=[old])
    assert result.rewrapped == 4
    assert result.failed == [(f"{damaged.id}.key", result.failed[0][1])]
    assert "failed its authentication check" in result.failed[0][1]
    assert keys.key_path(damaged.id).read_bytes() == before


def test_a_shredded_key_is_not_brought_back(vault, two_keys) -> None:
    _, objects, _ = vault
    _, old, _, new = two_keys
    victim = next(iter(objects))
    path = keys.key_path(victim.id)
    keys.destroy_data_key(victim.id)
    assert keys.rewrap_key_file(path, new=new, old={old.id: old}) == keys.RewrapOutcome.GONE
    assert not path.exists()


# The command ----------------------------------------------------------------------------------


def test_the_command_rotates_and_summarises(vault, two_keys, capsys, monkeypatch) -> None:
    actor, objects, _ = vault
    _old_path, old, new_path, new = two_keys
    assert main(["vault", "rotate-master-key", "--new-key-file", str(new_path)]) == 0
    out = capsys.readouterr().out
    assert f"Re-wrapped 5 data key(s) under master key {new.id}; 0 already done; 0 failed." in out
    assert main(["vault", "rotate-master-key", "--new-key-file", str(new_path)]) == 0
    captured = capsys.readouterr()
    assert "Re-wrapped 0 data key(s)" in captured.out
    assert "5 already done" in captured.out
    for secret in (old, new):  # never a key, only ids
        encoded = base64.b64encode(secret.key).decode()
        assert encoded not in captured.out
        assert encoded not in captured.err
    event = AuditEvent.objects.filter(action="vault.master_key.rotated").order_by("seq").first()
    assert event.actor_label == "accord vault rotate-master-key"
    assert event.details["rewrapped"] == 5
    assert event.details["old_master_key_ids"] == [old.id]
    only_new_key(monkeypatch)
    for obj, data in objects.items():
        assert read(actor, obj) == data


def test_the_command_refuses_a_new_key_accord_cannot_read_with(
    vault, two_keys, settings, monkeypatch, capsys
) -> None:
    _, objects, _ = vault
    old_path, _, new_path, _ = two_keys
    settings.VAULT_MASTER_KEY_FILE = old_path
    monkeypatch.delenv(keys.PREVIOUS_FILES_VARIABLE)
    before = {obj.id: keys.key_path(obj.id).read_bytes() for obj in objects}
    assert main(["vault", "rotate-master-key", "--new-key-file", str(new_path)]) == 2
    err = capsys.readouterr().err
    assert "not configured to read with the new master key" in err
    assert "Nothing was changed" in err
    assert {obj.id: keys.key_path(obj.id).read_bytes() for obj in objects} == before


def test_the_command_with_a_wrong_old_key(vault, two_keys, tmp_path, capsys) -> None:
    _, objects, _ = vault
    _, _, new_path, _ = two_keys
    stranger_path, _ = key_file(tmp_path / "secrets", "stranger.key")
    before = {obj.id: keys.key_path(obj.id).read_bytes() for obj in objects}
    argv = ["vault", "rotate-master-key", "--new-key-file", str(new_path)]
    assert main([*argv, "--old-key-file", str(stranger_path)]) == 2
    assert "None of the key files is wrapped under" in capsys.readouterr().err
    assert main([*argv, "--old-key-file", str(tmp_path / "missing.key")]) == 2
    assert "Cannot read the vault master key file" in capsys.readouterr().err
    assert {obj.id: keys.key_path(obj.id).read_bytes() for obj in objects} == before


def test_the_command_reports_failures_with_exit_status_1(vault, two_keys, capsys) -> None:
    _, objects, _ = vault
    _, _, new_path, _ = two_keys
    damaged = next(iter(objects))
    keys.key_path(damaged.id).write_text("{not json")
    assert main(["vault", "rotate-master-key", "--new-key-file", str(new_path)]) == 1
    out = capsys.readouterr().out
    assert "Re-wrapped 4 data key(s)" in out
    assert "1 failed" in out
    assert f"{damaged.id}.key: the key file is damaged" in out


def test_new_master_key_is_owner_only_and_never_replaces(tmp_path: Path, capsys) -> None:
    path = tmp_path / "fresh.key"
    assert main(["vault", "new-master-key", str(path)]) == 0
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = keys.read_master_key_file(path)
    out = capsys.readouterr().out
    assert key.id in out
    assert base64.b64encode(key.key).decode() not in out
    before = path.read_bytes()
    assert main(["vault", "new-master-key", str(path)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_production_refuses_a_previous_key_inside_the_data_folder(
    settings, monkeypatch, tmp_path
) -> None:
    settings.DEMO_MODE = False
    settings.DATA_DIR = tmp_path / "data"
    inside, _ = key_file(tmp_path / "data", "old.key")
    monkeypatch.setenv(keys.PREVIOUS_FILES_VARIABLE, str(inside))
    with pytest.raises(keys.VaultConfigurationError, match="must be kept outside"):
        keys.previous_master_keys()
