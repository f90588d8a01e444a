"""Tampering with the audit log is detected, and the first broken link is named.

Each test plays an attacker with database rights: the append-only triggers are dropped, rows are
changed with raw SQL, and the triggers are put back.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.audit import signing
from accord.audit.actor import Actor
from accord.audit.chain import event_hash
from accord.audit.checkpoints import (
    checkpoint_document,
    create_checkpoint,
    load_checkpoint_document,
    payload_bytes,
)
from accord.audit.models import AuditCheckpoint, AuditEvent, AuditHead
from accord.audit.verification import VerificationInputError, verify_chain

from .helpers import CONTENT_COLUMNS, add_events, attacker, read_row, rehash_from, write_row

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")


def saved_checkpoint() -> dict[str, Any]:
    """Sign the head now and keep the document as a careful auditor would: outside Accord."""
    document = checkpoint_document(create_checkpoint(by=SYSTEM))
    return load_checkpoint_document(json.dumps(document).encode())


def forged(document: dict[str, Any], key: Ed25519PrivateKey, **changes: Any) -> dict[str, Any]:
    fields = {**document, **changes}
    fields["signature"] = base64.b64encode(key.sign(payload_bytes(fields))).decode()
    return fields


def public_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id_of(key: Ed25519PrivateKey) -> str:
    return signing.key_id(key.public_key())


def assert_broken(result: Any, first: int | None, *phrases: str) -> None:
    assert not result.ok
    assert result.first_broken_seq == first, result.problems
    text = "\n".join(result.problems)
    for phrase in phrases:
        assert phrase in text, text


# An intact log ---------------------------------------------------------------------------------


def test_an_empty_log_verifies() -> None:
    result = verify_chain()
    assert result.ok
    assert (result.events_checked, result.head_seq, result.problems) == (0, 0, [])
    assert result.first_broken_seq is None


def test_an_intact_log_verifies() -> None:
    events = add_events(10)
    result = verify_chain()
    assert result.ok, result.problems
    assert result.events_checked == 10
    assert (result.head_seq, result.head_hash) == (10, events[-1].hash)


def test_small_chunks_give_the_same_answer() -> None:
    add_events(10)
    assert verify_chain(chunk_size=3).ok
    with attacker() as cursor:
        cursor.execute("UPDATE audit_auditevent SET target = 'x' WHERE seq = 7")
    assert_broken(verify_chain(chunk_size=3), 7, "Event 7 was altered")


def test_progress_is_reported_up_to_the_end() -> None:
    add_events(7)
    calls: list[tuple[int, int]] = []
    verify_chain(progress=lambda done, total: calls.append((done, total)), chunk_size=2)
    assert calls[-1] == (7, 7)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_a_log_with_checkpoints_verifies_against_each_of_them() -> None:
    add_events(3)
    first = saved_checkpoint()
    add_events(3)
    second = saved_checkpoint()
    add_events(2)
    for document in (first, second):
        result = verify_chain(checkpoint=document)
        assert result.ok, result.problems
        assert result.checkpoint_seq == document["seq"]
    # Each checkpoint is checked twice: its stored row and the signed copy in its event.
    assert verify_chain().signatures_checked == 4


# Edited events ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("reason", "nothing to see here"),
        ("actor", "user:1"),
        ("outcome", "refused"),
        ("occurred_at", "2001-01-01 00:00:00+00:00"),
        ("seq", 99),
    ],
)
def test_an_edited_event_is_detected(column: str, value: Any) -> None:
    add_events(6)
    with attacker() as cursor:
        cursor.execute(
            f"UPDATE audit_auditevent SET {column} = %s WHERE seq = 4",  # noqa: S608
            [value],
        )
    result = verify_chain()
    assert not result.ok
    assert result.first_broken_seq == 4, result.problems


def test_edited_details_are_detected() -> None:
    add_events(5)
    row = read_row(3)
    with attacker() as cursor:
        write_row(cursor, 3, {"details": {**row["details"], "n": 999}})
    assert_broken(verify_chain(), 3, "Event 3 was altered after it was recorded")


def test_an_edit_with_its_hash_recomputed_breaks_the_next_link() -> None:
    add_events(6)
    row = read_row(4)
    row["reason"] = "rewritten"
    with attacker() as cursor:
        write_row(cursor, 4, {"reason": "rewritten", "hash": event_hash(row)})
    assert_broken(verify_chain(), 5, "Event 5 does not follow event 4")


def test_a_rewrite_rehashed_to_the_end_is_caught_by_the_checkpoint_in_the_chain() -> None:
    """The attacker edits event 3 and recomputes every later hash and the head, and even
    deletes the stored checkpoints: the signed copy inside event 7 still catches it."""
    add_events(6)
    create_checkpoint(by=SYSTEM)  # signs event 6; is event 7
    add_events(3)
    with attacker() as cursor:
        cursor.execute("UPDATE audit_auditevent SET reason = 'rewritten' WHERE seq = 3")
        rehash_from(cursor, 3)
        cursor.execute("DELETE FROM audit_auditcheckpoint")
    assert_broken(verify_chain(), 6, "no longer contains event 6 as signed at")


def test_a_forged_checkpoint_event_is_detected() -> None:
    add_events(2)
    create_checkpoint(by=SYSTEM)
    row = read_row(3)
    details = {**row["details"], "hash": "ab" * 32}
    row["details"] = details
    with attacker() as cursor:
        write_row(cursor, 3, {"details": details, "hash": event_hash(row)})
        rehash_from(cursor, 3)
    assert_broken(verify_chain(), 3, "Event 3 records a checkpoint whose signature is not valid")


# Deleted events --------------------------------------------------------------------------------


def test_a_deleted_event_is_detected() -> None:
    add_events(6)
    with attacker() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = 4")
    assert_broken(verify_chain(), 4, "Event 4 is missing")


def test_several_deleted_events_are_detected() -> None:
    add_events(9)
    with attacker() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq BETWEEN 3 AND 5")
    assert_broken(verify_chain(), 3, "Events 3 to 5 are missing")


def test_a_deleted_first_event_is_detected() -> None:
    add_events(3)
    with attacker() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = 1")
    assert_broken(verify_chain(), 1, "Event 1 is missing")


def test_a_deleted_newest_event_is_caught_by_the_head() -> None:
    add_events(5)
    with attacker() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = 5")
    assert_broken(verify_chain(), 5, "The chain head says the newest event is 5")


# Reordered events ------------------------------------------------------------------------------


def test_swapping_two_events_is_detected() -> None:
    add_events(8)
    third, sixth = read_row(3), read_row(6)
    with attacker() as cursor:
        # Hashes are unique: park one first.
        cursor.execute("UPDATE audit_auditevent SET hash = 'parked' WHERE seq = 3")
        write_row(cursor, 6, {c: third[c] for c in CONTENT_COLUMNS})
        write_row(cursor, 3, {c: sixth[c] for c in CONTENT_COLUMNS})
    assert AuditEvent.objects.get(seq=3).target == sixth["target"]
    assert_broken(verify_chain(), 3, "Event 3 was altered", "does not follow event 2")


def test_swapping_neighbours_with_their_links_mended_is_detected() -> None:
    """Even when the attacker re-links the swapped events, each hash covers its number."""
    add_events(6)
    third, fourth = read_row(3), read_row(4)
    with attacker() as cursor:
        cursor.execute("UPDATE audit_auditevent SET hash = 'parked' WHERE seq = 3")
        write_row(cursor, 4, {c: third[c] for c in CONTENT_COLUMNS if c != "prev_hash"})
        write_row(cursor, 3, {c: fourth[c] for c in CONTENT_COLUMNS if c != "prev_hash"})
    assert_broken(verify_chain(), 3, "Event 3 was altered")


# Truncation ------------------------------------------------------------------------------------


def test_truncation_is_detected_against_a_saved_checkpoint() -> None:
    add_events(10)
    document = saved_checkpoint()  # signs event 10; is event 11
    add_events(2)
    assert document["seq"] == 10
    with attacker() as cursor:
        # Cut the newest events off, make the head agree, and remove the stored checkpoints.
        cursor.execute("DELETE FROM audit_auditevent WHERE seq >= 8")
        cursor.execute("DELETE FROM audit_auditcheckpoint")
        seventh = read_row(7)
        cursor.execute(
            "UPDATE audit_audithead SET seq = 7, hash = %s WHERE id = 1", [seventh["hash"]]
        )
    # The remaining log is consistent: only the saved checkpoint can tell.
    assert verify_chain().ok
    result = verify_chain(checkpoint=document)
    assert_broken(
        result,
        8,
        "The chain no longer contains event 10 as signed at",
        "events were removed or rewritten",
    )
    assert result.events_checked == 7


def test_truncation_is_detected_from_the_stored_checkpoints_too() -> None:
    add_events(6)
    create_checkpoint(by=SYSTEM)  # signs event 6
    with attacker() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq >= 5")
        cursor.execute(
            "UPDATE audit_audithead SET seq = 4, hash = %s WHERE id = 1", [read_row(4)["hash"]]
        )
    assert_broken(verify_chain(), 5, "no longer contains event 6 as signed at")


def test_a_rewrite_is_detected_against_a_saved_checkpoint() -> None:
    add_events(5)
    document = saved_checkpoint()
    with attacker() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq >= 6")
        cursor.execute("DELETE FROM audit_auditcheckpoint")
        cursor.execute("UPDATE audit_auditevent SET reason = 'rewritten' WHERE seq = 2")
        rehash_from(cursor, 2)
    assert verify_chain().ok
    assert_broken(verify_chain(checkpoint=document), 5, "no longer contains event 5 as signed")


# Forged checkpoints ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 3},
        {"hash": "ab" * 32},
        {"signed_at": "2030-01-01T00:00:00.000000Z"},
    ],
)
def test_an_altered_checkpoint_is_detected(change: dict[str, Any]) -> None:
    add_events(5)
    document = {**saved_checkpoint(), **change}
    assert_broken(verify_chain(checkpoint=document), None, "signature is not valid")


def test_a_checkpoint_signed_by_another_key_is_detected(other_key: Ed25519PrivateKey) -> None:
    add_events(5)
    genuine = saved_checkpoint()
    fake = forged(genuine, other_key, key_id=key_id_of(other_key))
    result = verify_chain(checkpoint=fake)
    assert_broken(result, None, "signed by another key", key_id_of(other_key))
    assert result.checkpoint_seq is None


def test_a_forger_cannot_borrow_the_platform_key_id(other_key: Ed25519PrivateKey) -> None:
    add_events(5)
    fake = forged(saved_checkpoint(), other_key)  # claims Accord's key id
    assert_broken(verify_chain(checkpoint=fake), None, "signature is not valid")


def test_the_public_key_inside_the_document_is_not_trusted(other_key: Ed25519PrivateKey) -> None:
    add_events(2)
    genuine = saved_checkpoint()
    fake = forged(genuine, other_key, key_id=key_id_of(other_key))
    fake["public_key"] = public_pem(other_key).decode()
    assert not verify_chain(checkpoint=fake).ok


def test_a_pinned_key_is_used_instead_of_the_platform_key(other_key: Ed25519PrivateKey) -> None:
    add_events(4)
    genuine = saved_checkpoint()
    theirs = forged(genuine, other_key, key_id=key_id_of(other_key))
    pinned = verify_chain(checkpoint=theirs, public_key_pem=public_pem(other_key))
    assert pinned.ok, pinned.problems
    assert pinned.checkpoint_seq == 4
    # ... and then Accord's own checkpoint is the stranger.
    assert_broken(
        verify_chain(checkpoint=genuine, public_key_pem=public_pem(other_key)),
        None,
        "signed by another key",
    )


def test_a_tampered_stored_checkpoint_is_reported() -> None:
    add_events(3)
    create_checkpoint(by=SYSTEM)
    with attacker() as cursor:
        cursor.execute("UPDATE audit_auditcheckpoint SET head_hash = %s", ["cd" * 32])
    result = verify_chain()
    assert not result.ok
    assert "stored checkpoint of event 3" in result.problems[0]


def test_a_checkpoint_of_the_empty_log_verifies() -> None:
    document = saved_checkpoint()
    assert (document["seq"], document["hash"]) == (0, "0" * 64)
    add_events(2)
    assert verify_chain(checkpoint=document).ok


# The head row ----------------------------------------------------------------------------------


def test_a_head_with_the_wrong_hash_is_detected() -> None:
    add_events(4)
    with attacker() as cursor:
        cursor.execute("UPDATE audit_audithead SET hash = %s WHERE id = 1", ["ef" * 32])
    assert_broken(verify_chain(), 4, "The chain head records a different hash for event 4")


def test_events_added_behind_the_heads_back_are_detected() -> None:
    events = add_events(4)
    row = {**read_row(4), "seq": 5, "prev_hash": events[-1].hash, "reason": "smuggled in"}
    row["hash"] = event_hash(row)
    AuditEvent.objects.create(**row)  # inserting is allowed; the head is not moved
    assert AuditHead.objects.get(pk=1).seq == 4
    assert_broken(verify_chain(), 5, "events from 5 on were added outside Accord")


def test_a_missing_head_row_is_reported() -> None:
    add_events(2)
    AuditHead.objects.all().delete()
    result = verify_chain()
    assert not result.ok
    assert "head row is missing" in result.problems[0]


# Unusable input --------------------------------------------------------------------------------


def test_a_malformed_checkpoint_is_unusable_input() -> None:
    with pytest.raises(VerificationInputError, match="missing"):
        verify_chain(checkpoint={"chain": "accord-audit"})


def test_a_malformed_public_key_is_unusable_input() -> None:
    add_events(1)
    document = saved_checkpoint()
    with pytest.raises(VerificationInputError, match="not a PEM public key"):
        verify_chain(checkpoint=document, public_key_pem=b"-----BEGIN PUBLIC KEY-----\nxx")


def test_many_problems_are_listed_only_up_to_a_limit() -> None:
    add_events(120)
    with attacker() as cursor:
        cursor.execute("UPDATE audit_auditevent SET reason = 'x'")
    result = verify_chain()
    assert result.first_broken_seq == 1
    assert len(result.problems) == 101
    assert result.problems[-1] == "... and 20 more problems not listed."
    assert AuditCheckpoint.objects.count() == 0


def test_without_any_key_signatures_are_noted_as_unchecked(settings: Any, tmp_path: Any) -> None:
    add_events(2)
    document = saved_checkpoint()
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "missing.pem"
    result = verify_chain()
    assert result.ok
    assert result.signatures_checked == 0
    assert "2 checkpoint signature(s) were not checked" in result.notes[0]
    with pytest.raises(VerificationInputError, match="without Accord's public key"):
        verify_chain(checkpoint=document)
    assert not (tmp_path / "missing.pem").exists()  # verifying never creates a key
