"""An organisation's audit bundle and its offline check (`accord audit verify --bundle`):
intact bundles pass; edited events, forged or foreign signatures, a wrong pinned key and broken
links each fail with a plain message; and the check never touches the database."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db.backends.base.base import BaseDatabaseWrapper

from accord.audit import signing
from accord.audit.actor import Actor, ActorKind
from accord.audit.bundle import bundle_for, bundle_json_chunks
from accord.audit.chain import event_hash
from accord.audit.checkpoints import create_checkpoint, payload_bytes
from accord.audit.models import AuditEvent
from accord.audit.offline import LIMITS, BundleError, load_bundle, verify_bundle
from accord.cli.main import main

from .helpers import PERSON, add_events

pytestmark = pytest.mark.django_db

OTHER = Actor(
    kind=ActorKind.PERSON,
    ref="user:13",
    label="someone@elsewhere.example",
    organisation_id="202",
    organisation_name="Elsewhere Council",
)


@pytest.fixture
def document() -> dict[str, Any]:
    """Events of organisation 101 with another organisation's in between, two checkpoints."""
    add_events(2)
    add_events(2, by=OTHER, action="test.other.done")
    add_events(3)
    create_checkpoint(by=Actor.system("test"))
    add_events(1, by=OTHER, action="test.other.done")
    add_events(2)
    create_checkpoint(by=Actor.system("test"))
    return bundle_for("101")


def pem() -> bytes:
    return signing.public_key_pem()


def rehash(event: dict[str, Any]) -> None:
    """What a careful forger does after an edit: recompute the event's own hash."""
    from datetime import UTC, datetime

    fields = {
        **event,
        "occurred_at": datetime.strptime(event["occurred_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=UTC
        ),
    }
    event["hash"] = event_hash(fields)


def test_the_bundle_holds_only_the_organisations_events(document) -> None:
    assert document["format"] == "accord-audit-bundle"
    assert document["organisation"]["id"] == "101"
    assert [e["seq"] for e in document["events"]] == [1, 2, 5, 6, 7, 10, 11]
    assert all(e["organisation"] == "101" for e in document["events"])
    assert len(document["checkpoints"]) == 2
    assert document["public_key"] == pem().decode()


def test_the_streamed_bundle_is_the_same_document(document) -> None:
    streamed = json.loads("".join(bundle_json_chunks("101")))
    for name in ("generated_at",):
        streamed.pop(name)
        document.pop(name)
    assert streamed == document


def test_an_intact_bundle_passes(document) -> None:
    result = verify_bundle(document, public_key_pem=pem())
    assert result.ok, result.problems
    assert result.events_checked == 7
    assert result.checkpoints_checked == 2
    assert result.linked_pairs == 4  # 1-2, 5-6, 6-7, 10-11
    # 5, 6 and 7 lead to the first checkpoint (of event 7); 10 and 11 to the second.
    assert result.anchored_events == 5
    assert not result.key_from_bundle
    assert result.notes == []


def test_an_edited_event_fails(document) -> None:
    document["events"][1]["purpose"] = "Nothing to see here"
    result = verify_bundle(document, public_key_pem=pem())
    assert not result.ok
    assert result.problems == [
        "Event 2 was altered after it was recorded: its contents no longer match its hash."
    ]


def test_a_rehashed_edit_breaks_the_link_to_the_next_event(document) -> None:
    event = document["events"][0]
    event["reason"] = "Rewritten"
    rehash(event)
    result = verify_bundle(document, public_key_pem=pem())
    assert not result.ok
    assert any("Event 2 does not follow event 1" in p for p in result.problems)


def test_a_broken_prev_hash_link_fails(document) -> None:
    event = document["events"][3]  # event 6
    event["prev_hash"] = "f" * 64
    rehash(event)
    result = verify_bundle(document, public_key_pem=pem())
    assert not result.ok
    assert any(p.startswith("Event 6 does not follow event 5") for p in result.problems)


def test_a_rewritten_signed_event_fails_against_its_checkpoint(document) -> None:
    last = document["events"][4]  # event 7, the head the first checkpoint signed
    assert last["seq"] == document["checkpoints"][0]["seq"]
    last["details"] = {"n": 99}
    rehash(last)
    result = verify_bundle(document, public_key_pem=pem())
    assert not result.ok
    assert any(
        "Event 7 is not the event the checkpoint of event 7 signed" in p for p in result.problems
    )


def test_a_forged_checkpoint_signature_fails(document, other_key: Ed25519PrivateKey) -> None:
    checkpoint = document["checkpoints"][0]
    checkpoint["hash"] = "a" * 64
    checkpoint["signature"] = base64.b64encode(other_key.sign(payload_bytes(checkpoint))).decode()
    result = verify_bundle(document, public_key_pem=pem())
    assert not result.ok
    assert any(
        p == "The checkpoint of event 7 does not carry a valid signature: it was altered or forged."
        for p in result.problems
    )


def test_a_checkpoint_signed_by_another_key_fails(document, other_key) -> None:
    checkpoint = document["checkpoints"][1]
    checkpoint["key_id"] = signing.key_id(other_key.public_key())
    checkpoint["signature"] = base64.b64encode(other_key.sign(payload_bytes(checkpoint))).decode()
    result = verify_bundle(document, public_key_pem=pem())
    assert not result.ok
    assert any("was signed by another key" in p for p in result.problems)


def test_a_wrong_pinned_key_fails(document, other_key) -> None:
    result = verify_bundle(document, public_key_pem=signing.public_key_pem(other_key.public_key()))
    assert not result.ok
    assert len(result.problems) == 2
    assert all("was signed by another key" in p for p in result.problems)


def test_a_swapped_key_in_the_bundle_is_only_consistency(document, other_key) -> None:
    """A forger who re-signs everything and puts their own key in the bundle passes a check
    against the bundle's own key (with the warning), and fails against the pinned key."""
    forged = copy.deepcopy(document)
    forged["public_key"] = signing.public_key_pem(other_key.public_key()).decode()
    for checkpoint in forged["checkpoints"]:
        checkpoint["key_id"] = signing.key_id(other_key.public_key())
        checkpoint["signature"] = base64.b64encode(
            other_key.sign(payload_bytes(checkpoint))
        ).decode()
    own = verify_bundle(forged)
    assert own.ok
    assert own.key_from_bundle
    assert "pin a key you obtained separately" in own.notes[0]
    assert not verify_bundle(forged, public_key_pem=pem()).ok


def test_unusable_bundles_and_keys_are_input_errors(document, tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="not an Accord audit bundle"):
        verify_bundle({"format": "something else"})
    with pytest.raises(BundleError, match="not valid JSON"):
        load_bundle(b"{not json")
    with pytest.raises(BundleError, match="Cannot read the bundle file"):
        load_bundle(tmp_path / "missing.json")
    with pytest.raises(BundleError, match="not a PEM public key"):
        verify_bundle(document, public_key_pem=b"not a key")
    without_key = {**document, "public_key": None}
    with pytest.raises(BundleError, match="carries no public key"):
        verify_bundle(without_key)


# The command ------------------------------------------------------------------------------------


def write(tmp_path: Path, document: dict[str, Any]) -> tuple[str, str]:
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(document))
    key = tmp_path / "accord.pem"
    key.write_bytes(pem())
    return str(bundle), str(key)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["audit", "verify", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


@pytest.fixture
def no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every database connection fail, so any query would raise."""

    def unreachable(*args: object, **kwargs: object) -> None:
        raise AssertionError("the offline check touched the database")

    for name in ("ensure_connection", "cursor", "_cursor", "connect"):
        monkeypatch.setattr(BaseDatabaseWrapper, name, unreachable)
    with pytest.raises(AssertionError, match="touched the database"):
        AuditEvent.objects.count()  # the database really is out of reach


def test_the_command_checks_a_bundle_without_the_database(
    document, tmp_path: Path, capsys, no_database
) -> None:
    bundle, key = write(tmp_path, document)
    status, out, _ = run(capsys, "--bundle", bundle, "--public-key", key)
    assert status == 0, out
    assert "The audit bundle is intact." in out
    assert "7 events (numbers 1 to 11) are exactly as recorded" in out
    assert f"2 checkpoint signature(s) are valid under key {signing.key_id()}" in out
    assert "WARNING" not in out
    assert f"What it cannot prove: {LIMITS}" in out
    assert "accord audit verify --checkpoint FILE" in out


def test_the_command_warns_when_the_bundles_own_key_is_used(
    document, tmp_path: Path, capsys, no_database
) -> None:
    bundle, _ = write(tmp_path, document)
    status, out, _ = run(capsys, "--bundle", bundle)
    assert status == 0
    assert "WARNING: No public key was given" in out


def test_the_command_reports_tampering(document, tmp_path: Path, capsys, no_database) -> None:
    document["events"][2]["actor_label"] = "someone.else@example.org"
    bundle, key = write(tmp_path, document)
    status, out, _ = run(capsys, "--bundle", bundle, "--public-key", key)
    assert status == 1
    assert "PROBLEM: the audit bundle has been tampered with" in out
    assert "Event 5 was altered after it was recorded" in out


def test_the_command_cannot_run_on_a_bad_file(tmp_path: Path, capsys, no_database) -> None:
    path = tmp_path / "bundle.json"
    path.write_text("[]")
    status, _, err = run(capsys, "--bundle", str(path))
    assert status == 2
    assert "is not an Accord audit bundle" in err
    status, _, err = run(capsys, "--bundle", str(tmp_path / "nothing.json"))
    assert status == 2
    status, _, err = run(capsys, "--bundle", str(path), "--checkpoint", str(path))
    assert status == 2
    assert "not both" in err


def test_an_empty_bundle(capsys, tmp_path: Path) -> None:
    document = bundle_for("999")
    assert document["events"] == []
    result = verify_bundle(document, public_key_pem=pem())
    assert result.ok
    assert PERSON.organisation_id != "999"
