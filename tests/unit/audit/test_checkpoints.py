"""Signed checkpoints: what is signed, when, and the downloadable document."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from accord.audit import signing
from accord.audit.actor import Actor
from accord.audit.chain import timestamp
from accord.audit.checkpoints import (
    CHECKPOINT_ACTION,
    CheckpointFileError,
    checkpoint_document,
    checkpoint_if_moved,
    create_checkpoint,
    load_checkpoint_document,
    payload_bytes,
)
from accord.audit.enums import GENESIS_HASH
from accord.audit.models import AuditCheckpoint, AuditEvent, AuditHead

from .helpers import add_events

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")


def test_a_checkpoint_signs_the_head_before_its_own_event() -> None:
    events = add_events(3)
    checkpoint = create_checkpoint(by=SYSTEM)
    assert (checkpoint.seq, checkpoint.head_hash) == (3, events[-1].hash)
    assert checkpoint.key_id == signing.key_id()

    own = AuditEvent.objects.get(seq=4)
    assert own.action == CHECKPOINT_ACTION
    assert own.prev_hash == checkpoint.head_hash
    assert own.target == f"audit-checkpoint:{checkpoint.pk}"
    assert own.actor_label == "test"
    assert own.details["seq"] == 3
    assert own.details["signature"] == checkpoint.signature
    assert AuditHead.objects.get(pk=1).seq == 4


def test_the_signature_covers_the_canonical_payload() -> None:
    add_events(2)
    checkpoint = create_checkpoint(by=SYSTEM)
    signed = rfc8785.dumps(
        {
            "chain": "accord-audit",
            "seq": 2,
            "hash": checkpoint.head_hash,
            "signed_at": timestamp(checkpoint.signed_at),
            "key_id": signing.key_id(),
        }
    )
    signing.public_key().verify(base64.b64decode(checkpoint.signature), signed)
    stored = AuditCheckpoint.objects.get(pk=checkpoint.pk)
    assert timestamp(stored.signed_at) == timestamp(checkpoint.signed_at)  # microseconds kept


def test_payload_bytes_use_only_the_signed_fields() -> None:
    fields = {
        "key_id": "0123456789abcdef",
        "signed_at": "2026-11-21T06:07:08.123456Z",
        "hash": "a" * 64,
        "seq": 7,
        "chain": "accord-audit",
        "signature": "ignored",
        "public_key": "ignored",
    }
    assert payload_bytes(fields) == (
        b'{"chain":"accord-audit","hash":"' + b"a" * 64 + b'","key_id":"0123456789abcdef",'
        b'"seq":7,"signed_at":"2026-11-21T06:07:08.123456Z"}'
    )


def test_checkpoint_if_moved_does_nothing_on_an_empty_log() -> None:
    assert checkpoint_if_moved() is None
    assert AuditCheckpoint.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_checkpoint_if_moved_signs_only_when_the_log_moved() -> None:
    add_events(3)
    first = checkpoint_if_moved()
    assert first is not None
    assert first.seq == 3
    assert AuditEvent.objects.get(seq=4).actor == "task:audit-checkpoint"

    # Nothing new but its own event: nothing to do, however often the scheduler asks.
    assert checkpoint_if_moved() is None
    assert checkpoint_if_moved() is None
    assert AuditCheckpoint.objects.count() == 1
    assert AuditHead.objects.get(pk=1).seq == 4

    add_events(1)
    second = checkpoint_if_moved()
    assert second is not None
    assert second.seq == 5
    assert AuditCheckpoint.objects.count() == 2


def test_a_manual_checkpoint_counts_as_the_newest() -> None:
    add_events(2)
    create_checkpoint(by=SYSTEM)
    assert checkpoint_if_moved() is None


# The document ----------------------------------------------------------------------------------


def test_the_document_holds_the_signed_fields_signature_and_key() -> None:
    add_events(2)
    checkpoint = create_checkpoint(by=SYSTEM)
    document = checkpoint_document(checkpoint)
    assert document == {
        "chain": "accord-audit",
        "seq": 2,
        "hash": checkpoint.head_hash,
        "signed_at": timestamp(checkpoint.signed_at),
        "key_id": signing.key_id(),
        "signature": checkpoint.signature,
        "public_key": signing.public_key_pem().decode(),
    }
    assert load_checkpoint_document(json.dumps(document).encode()) == document


def test_the_document_of_an_empty_log() -> None:
    document = checkpoint_document(create_checkpoint(by=SYSTEM))
    assert (document["seq"], document["hash"]) == (0, GENESIS_HASH)


def test_a_document_loads_from_a_file(tmp_path: Path) -> None:
    add_events(1)
    document = checkpoint_document(create_checkpoint(by=SYSTEM))
    path = tmp_path / "checkpoint.json"
    path.write_text(json.dumps(document, indent=2))
    assert load_checkpoint_document(path) == document
    assert load_checkpoint_document(str(path)) == document


def _good() -> dict[str, Any]:
    return {
        "chain": "accord-audit",
        "seq": 3,
        "hash": "a" * 64,
        "signed_at": "2026-11-21T06:07:08.123456Z",
        "key_id": "0123456789abcdef",
        "signature": base64.b64encode(bytes(64)).decode(),
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"   \n", "is empty"),
        (b"\xff\xfe\x00garbage", "not text"),
        (b"{not json", "not valid JSON (line 1, column 2"),
        (b"[1, 2]", "not a JSON object"),
        (b'"text"', "not a JSON object"),
        (json.dumps({**_good(), "signature": None}).encode(), 'invalid "signature"'),
        (json.dumps({k: v for k, v in _good().items() if k != "hash"}).encode(), 'missing "hash"'),
        (json.dumps({"chain": "accord-audit"}).encode(), 'missing "seq", "hash", "signed_at"'),
        (json.dumps({**_good(), "chain": "bitcoin"}).encode(), "not for an Accord audit chain"),
        (json.dumps({**_good(), "seq": -1}).encode(), 'invalid "seq"'),
        (json.dumps({**_good(), "seq": True}).encode(), 'invalid "seq"'),
        (json.dumps({**_good(), "seq": "3"}).encode(), 'invalid "seq"'),
        (json.dumps({**_good(), "seq": 3.5}).encode(), 'invalid "seq"'),
        (json.dumps({**_good(), "hash": "abc"}).encode(), 'invalid "hash"'),
        (json.dumps({**_good(), "hash": "A" * 64}).encode(), 'invalid "hash"'),
        (json.dumps({**_good(), "signed_at": "yesterday"}).encode(), 'invalid "signed_at"'),
        (json.dumps({**_good(), "signed_at": 5}).encode(), 'invalid "signed_at"'),
        (json.dumps({**_good(), "key_id": ""}).encode(), 'invalid "key_id"'),
        (json.dumps({**_good(), "signature": "!!!"}).encode(), 'invalid "signature"'),
        (json.dumps({**_good(), "signature": "AAAA"}).encode(), 'invalid "signature"'),
        (b" " * 70_000, "too large"),
    ],
)
def test_a_malformed_document_gets_a_clear_error(content: bytes, message: str) -> None:
    with pytest.raises(CheckpointFileError) as error:
        load_checkpoint_document(content)
    assert message in str(error.value)
    assert str(error.value).startswith("The checkpoint")


def test_a_well_formed_document_loads() -> None:
    assert load_checkpoint_document(json.dumps(_good()).encode()) == _good()


def test_unreadable_files_get_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointFileError, match=r"Cannot read the checkpoint file .*nope\.json"):
        load_checkpoint_document(tmp_path / "nope.json")
    with pytest.raises(CheckpointFileError, match="is a folder"):
        load_checkpoint_document(tmp_path)
