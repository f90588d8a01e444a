"""Signed checkpoints: Accord's statement that the audit chain had this head at this time.

A checkpoint signs ``{"chain", "seq", "hash", "signed_at", "key_id"}`` (RFC 8785 canonical
bytes, Ed25519). Whoever keeps a copy of one can later prove that no event up to ``seq`` was
changed, removed or cut off (see ``verification.verify_chain``).

Creating a checkpoint is itself audited: the event "audit.checkpoint.created" is appended in the
same transaction, right after the head it signs, and carries the signed statement in its
details, so the chain holds its own signed anchors.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import transaction
from django.utils import timezone

from . import signing
from .actions import record
from .actor import Actor
from .chain import timestamp
from .models import AuditCheckpoint, AuditEvent, AuditHead

CHAIN_NAME = "accord-audit"
CHECKPOINT_ACTION = "audit.checkpoint.created"
SCHEDULER_TASK = "audit-checkpoint"
PAYLOAD_FIELDS = ("chain", "seq", "hash", "signed_at", "key_id")
MAX_DOCUMENT_BYTES = 64 * 1024

_HASH = re.compile(r"[0-9a-f]{64}")
_KEY_ID = re.compile(r"[0-9a-f]{1,64}")
_SIGNED_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class CheckpointFileError(ValueError):
    """A checkpoint document is unreadable or malformed. The message says what is wrong."""


# Signing ---------------------------------------------------------------------------------------


def payload(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    """The signed fields of a stored checkpoint."""
    return {
        "chain": CHAIN_NAME,
        "seq": checkpoint.seq,
        "hash": checkpoint.head_hash,
        "signed_at": timestamp(checkpoint.signed_at),
        "key_id": checkpoint.key_id,
    }


def payload_bytes(fields: dict[str, Any]) -> bytes:
    """The exact bytes that are signed: RFC 8785 JSON of the payload fields only."""
    return rfc8785.dumps({name: fields[name] for name in PAYLOAD_FIELDS})


def signature_is_valid(fields: dict[str, Any], signature: str, key: Ed25519PublicKey) -> bool:
    """Whether ``signature`` (base64) is ``key``'s signature over the payload in ``fields``."""
    try:
        raw = base64.b64decode(signature, validate=True)
        key.verify(raw, payload_bytes(fields))
    except (InvalidSignature, binascii.Error, ValueError, TypeError, KeyError):
        return False
    return True


def create_checkpoint(*, by: Actor) -> AuditCheckpoint:
    """Sign the current head, store the checkpoint and audit it, in one transaction.

    The head is locked first, so the signed head is exactly the event before the checkpoint's
    own "audit.checkpoint.created" event.
    """
    key = signing.private_key()
    kid = signing.key_id(key.public_key())
    with transaction.atomic():
        head = AuditHead.objects.select_for_update().get(pk=1)
        signed_at = timezone.now()
        fields = {
            "chain": CHAIN_NAME,
            "seq": head.seq,
            "hash": head.hash,
            "signed_at": timestamp(signed_at),
            "key_id": kid,
        }
        signature = base64.b64encode(key.sign(payload_bytes(fields))).decode("ascii")
        checkpoint = AuditCheckpoint.objects.create(
            seq=head.seq,
            head_hash=head.hash,
            signed_at=signed_at,
            key_id=kid,
            signature=signature,
        )
        record(
            by=by,
            action=CHECKPOINT_ACTION,
            target=f"audit-checkpoint:{checkpoint.pk}",
            details={**fields, "signature": signature},
        )
        return checkpoint


def checkpoint_if_moved() -> AuditCheckpoint | None:
    """For the scheduler: sign the head if any event other than checkpoints was added since the
    newest checkpoint (so checkpoints alone never keep the clock ticking). Otherwise nothing."""
    with transaction.atomic():
        # Lock the head so two schedulers (several web processes) cannot both sign.
        head = AuditHead.objects.select_for_update().get(pk=1)
        newest = AuditCheckpoint.objects.order_by("-seq", "-signed_at").first()
        if newest is None:
            moved = head.seq > 0
        else:
            moved = (
                AuditEvent.objects.filter(seq__gt=newest.seq)
                .exclude(action=CHECKPOINT_ACTION)
                .exists()
            )
        if not moved:
            return None
        return create_checkpoint(by=Actor.task(SCHEDULER_TASK))


# The downloadable document ---------------------------------------------------------------------


def checkpoint_document(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    """The checkpoint as a JSON-ready document: the signed fields, the signature (base64) and,
    for convenience, the platform's public key when it is the key that signed. Verifiers must
    pin the key they trust rather than take the one in the document."""
    document: dict[str, Any] = {**payload(checkpoint), "signature": checkpoint.signature}
    try:
        key = signing.public_key()
    except signing.SigningKeyError:
        key = None
    if key is not None and signing.key_id(key) == checkpoint.key_id:
        document["public_key"] = signing.public_key_pem(key).decode("ascii")
    return document


def checkpoint_json(checkpoint: AuditCheckpoint) -> str:
    return json.dumps(checkpoint_document(checkpoint), indent=2, sort_keys=True) + "\n"


def load_checkpoint_document(source: str | Path | bytes) -> dict[str, Any]:
    """Read a checkpoint document from a file path or from its bytes, and check its shape.

    Raises ``CheckpointFileError`` with a plain message for anything unusable. The signature is
    not checked here (``verification.verify_chain`` does that against a pinned key).
    """
    if isinstance(source, bytes | bytearray):
        data, name = bytes(source), "The checkpoint"
    else:
        path = Path(source)
        name = f"The checkpoint file {path}"
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_DOCUMENT_BYTES + 1)
        except IsADirectoryError as exc:
            raise CheckpointFileError(f"{name} is a folder, not a file.") from exc
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise CheckpointFileError(f"Cannot read the checkpoint file {path}: {reason}.") from exc
    if len(data) > MAX_DOCUMENT_BYTES:
        raise CheckpointFileError(f"{name} is too large to be an Accord checkpoint.")
    if not data.strip():
        raise CheckpointFileError(f"{name} is empty.")
    try:
        parsed = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CheckpointFileError(f"{name} is not text (it is not UTF-8 JSON).") from exc
    except json.JSONDecodeError as exc:
        raise CheckpointFileError(
            f"{name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from exc
    return validate_checkpoint_document(parsed, name=name)


def validate_checkpoint_document(document: Any, *, name: str = "The checkpoint") -> dict[str, Any]:
    """Check a parsed checkpoint document; return a clean copy of its fields."""
    if not isinstance(document, dict):
        raise CheckpointFileError(
            f"{name} is not a JSON object, so it is not an Accord checkpoint."
        )
    missing = [f for f in (*PAYLOAD_FIELDS, "signature") if f not in document]
    if missing:
        raise CheckpointFileError(f"{name} is missing {_and_list(missing)}.")
    if document["chain"] != CHAIN_NAME:
        raise CheckpointFileError(
            f'{name} is not for an Accord audit chain ("chain" should be "{CHAIN_NAME}").'
        )
    seq = document["seq"]
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise CheckpointFileError(
            f'{name} has an invalid "seq": it must be a whole number 0 or more.'
        )
    head_hash = document["hash"]
    if not isinstance(head_hash, str) or not _HASH.fullmatch(head_hash):
        raise CheckpointFileError(
            f'{name} has an invalid "hash": it must be 64 lower-case hexadecimal characters.'
        )
    signed_at = document["signed_at"]
    if not isinstance(signed_at, str) or _parse_signed_at(signed_at) is None:
        raise CheckpointFileError(
            f'{name} has an invalid "signed_at": it must be a UTC time like '
            '"2026-11-21T06:07:08.123456Z".'
        )
    kid = document["key_id"]
    if not isinstance(kid, str) or not _KEY_ID.fullmatch(kid):
        raise CheckpointFileError(f'{name} has an invalid "key_id".')
    signature = document["signature"]
    try:
        raw = base64.b64decode(signature, validate=True) if isinstance(signature, str) else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 64:
        raise CheckpointFileError(
            f'{name} has an invalid "signature": it must be a base64 Ed25519 signature.'
        )
    clean: dict[str, Any] = {name_: document[name_] for name_ in (*PAYLOAD_FIELDS, "signature")}
    if isinstance(document.get("public_key"), str):
        clean["public_key"] = document["public_key"]
    return clean


def signed_at_of(document: dict[str, Any]) -> datetime | None:
    value = document.get("signed_at")
    return _parse_signed_at(value) if isinstance(value, str) else None


def _parse_signed_at(value: str) -> datetime | None:
    try:
        parsed = datetime.strptime(value, _SIGNED_AT_FORMAT)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC)


def _and_list(items: list[str]) -> str:
    quoted = [f'"{item}"' for item in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
