"""`accord audit verify` and `accord audit checkpoint`: exit codes and plain messages."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.audit import signing
from accord.audit.checkpoints import payload_bytes
from accord.audit.models import AuditCheckpoint
from accord.cli.main import main

from .helpers import add_events, attacker

pytestmark = pytest.mark.django_db


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["audit", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


def test_verify_an_intact_log(capsys: pytest.CaptureFixture[str]) -> None:
    add_events(3)
    status, out, _ = run(capsys, "verify")
    assert status == 0
    assert "The audit log is intact: 3 events checked, from event 1 to event 3." in out


def test_verify_an_empty_log(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "verify")
    assert status == 0
    assert "no events yet" in out


def test_verify_a_tampered_log(capsys: pytest.CaptureFixture[str]) -> None:
    add_events(5)
    with attacker() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = 2")
    status, out, _ = run(capsys, "verify")
    assert status == 1
    assert "PROBLEM: the audit log has been tampered with or damaged." in out
    assert "The first broken link is at event 2." in out
    assert "Event 2 is missing" in out


def test_checkpoint_then_verify_against_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    add_events(4)
    path = tmp_path / "checkpoint.json"
    status, out, _ = run(capsys, "checkpoint", "--output", str(path))
    assert status == 0
    checkpoint = AuditCheckpoint.objects.get()
    assert f"Signed checkpoint of event 4: hash {checkpoint.head_hash}" in out
    assert f"Checkpoint written to {path}" in out
    document = json.loads(path.read_text())
    assert (document["seq"], document["hash"]) == (4, checkpoint.head_hash)

    add_events(2)
    status, out, _ = run(capsys, "verify", "--checkpoint", str(path))
    assert status == 0, out
    assert "It still holds everything up to the checkpoint of event 4" in out

    with attacker() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq >= 4")
        cursor.execute("DELETE FROM audit_auditcheckpoint")
        cursor.execute(
            "UPDATE audit_audithead SET seq = 3, hash = "
            "(SELECT hash FROM audit_auditevent WHERE seq = 3) WHERE id = 1"
        )
    status, out, _ = run(capsys, "verify", "--checkpoint", str(path))
    assert status == 1
    assert "The first broken link is at event 4." in out
    assert "no longer contains event 4 as signed at" in out


def test_checkpoint_is_recorded_as_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    from accord.audit.models import AuditEvent

    assert run(capsys, "checkpoint")[0] == 0
    event = AuditEvent.objects.get()
    assert (event.actor, event.actor_label) == ("system", "accord audit checkpoint")


def test_checkpoint_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    add_events(1)
    status, out, err = run(capsys, "checkpoint", "--output", "-")
    assert status == 0
    assert json.loads(out)["seq"] == 1
    assert "Signed checkpoint of event 1" in err


def test_checkpoint_to_an_unwritable_place_signs_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, _, err = run(capsys, "checkpoint", "--output", str(tmp_path / "no" / "such.json"))
    assert status == 2
    assert "does not exist" in err
    status, _, err = run(capsys, "checkpoint", "--output", str(tmp_path))
    assert status == 2
    assert "is a folder" in err
    assert AuditCheckpoint.objects.count() == 0


def test_verify_with_a_missing_checkpoint_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, out, err = run(capsys, "verify", "--checkpoint", str(tmp_path / "missing.json"))
    assert status == 2
    assert out == ""
    assert "accord audit verify: Cannot read the checkpoint file" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"{oops", "is not valid JSON"), (b"[]", "not a JSON object"), (b"", "is empty")],
)
def test_verify_with_a_malformed_checkpoint_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    status, _, err = run(capsys, "verify", "--checkpoint", str(path))
    assert status == 2
    assert message in err


def test_verify_with_a_forged_checkpoint_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    add_events(2)
    path = tmp_path / "checkpoint.json"
    run(capsys, "checkpoint", "--output", str(path))
    document = json.loads(path.read_text())
    document["seq"] = 1
    path.write_text(json.dumps(document))
    status, out, _ = run(capsys, "verify", "--checkpoint", str(path))
    assert status == 1
    assert "signature is not valid" in out


def test_verify_with_a_bad_public_key_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "key.pem"
    path.write_text("not a key")
    status, _, err = run(capsys, "verify", "--public-key", str(path))
    assert status == 2
    assert "is not a PEM public key" in err


def test_verify_with_a_pinned_public_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, other_key: Ed25519PrivateKey
) -> None:
    """A checkpoint from another Accord (another key) verifies when that key is pinned."""
    add_events(3)
    path = tmp_path / "checkpoint.json"
    run(capsys, "checkpoint", "--output", str(path))
    document = json.loads(path.read_text())
    document["key_id"] = signing.key_id(other_key.public_key())
    document["signature"] = base64.b64encode(other_key.sign(payload_bytes(document))).decode()
    path.write_text(json.dumps(document))
    key_path = tmp_path / "theirs.pem"
    key_path.write_bytes(
        other_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    status, out, _ = run(capsys, "verify", "--checkpoint", str(path))
    assert status == 1
    assert "signed by another key" in out
    status, out, _ = run(capsys, "verify", "--checkpoint", str(path), "--public-key", str(key_path))
    assert status == 0, out


def test_audit_without_a_subcommand_shows_help(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys)
    assert status == 2
    assert "verify" in out
    assert "checkpoint" in out
