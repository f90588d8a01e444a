"""An organisation's own audit events and every signed checkpoint, in one JSON document that
it can keep and check offline (``accord audit verify --bundle FILE``, see ``offline.py``).

The document::

    {
      "format": "accord-audit-bundle", "version": 1,
      "generated_at": "2026-11-21T06:07:08.123456Z",
      "chain": "accord-audit",
      "organisation": {"id": "12", "name": "..."},
      "hashed_fields": ["seq", "occurred_at", ...],
      "events": [{<every hashed field, exactly as hashed>, "hash": "..."}, ...],   # by seq
      "checkpoints": [<checkpoint document>, ...],                                  # by seq
      "public_key": "-----BEGIN PUBLIC KEY-----..." | null,
      "key_id": "..." | null
    }

The events are those where the organisation acted (``organisation``) or whose records they
concern (``subject_organisation``); never another organisation's. Each carries its fields in
the form they are hashed in (``occurred_at`` as ``chain.timestamp`` spells it), so
``chain.event_hash`` recomputes from the document alone. Checkpoints carry no organisation's
data, so every one is included.

``bundle_for`` builds the whole document in memory; ``bundle_json_chunks`` writes the same
document as text a piece at a time, for a streamed download of a long log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.db.models import Q
from django.utils import timezone

from . import signing
from .chain import HASHED_FIELDS, timestamp
from .checkpoints import CHAIN_NAME, checkpoint_document
from .models import AuditCheckpoint, AuditEvent

FORMAT = "accord-audit-bundle"
VERSION = 1
DOWNLOADED_ACTION = "audit.bundle.downloaded"
CHUNK_SIZE = 2000


def _header(organisation_id: str) -> dict[str, Any]:
    from accord.organisations.models import Organisation

    name = (
        Organisation.objects.filter(pk=int(organisation_id)).values_list("name", flat=True).first()
        if organisation_id.isascii() and organisation_id.isdigit()
        else None
    )
    try:
        key = signing.public_key()
    except signing.SigningKeyError:
        key = None
    return {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": timestamp(timezone.now()),
        "chain": CHAIN_NAME,
        "organisation": {"id": organisation_id, "name": name or ""},
        "hashed_fields": list(HASHED_FIELDS),
        "public_key": signing.public_key_pem(key).decode("ascii") if key else None,
        "key_id": signing.key_id(key) if key else None,
    }


def events_of(organisation_id: str) -> Iterator[dict[str, Any]]:
    """The organisation's events, oldest first, each exactly as hashed plus its hash."""
    if not organisation_id:
        return
    rows = (
        AuditEvent.objects.filter(
            Q(organisation=organisation_id) | Q(subject_organisation=organisation_id)
        )
        .order_by("seq")
        .values(*HASHED_FIELDS, "hash")
    )
    for row in rows.iterator(chunk_size=CHUNK_SIZE):
        event = {name: row[name] for name in HASHED_FIELDS}
        event["occurred_at"] = timestamp(row["occurred_at"])
        event["hash"] = row["hash"]
        yield event


def checkpoints() -> list[dict[str, Any]]:
    return [checkpoint_document(c) for c in AuditCheckpoint.objects.order_by("seq", "signed_at")]


def bundle_for(organisation_id: int | str) -> dict[str, Any]:
    """The whole bundle for ``organisation_id`` as a JSON-ready dict."""
    org = str(organisation_id).strip()
    return {**_header(org), "events": list(events_of(org)), "checkpoints": checkpoints()}


def bundle_json_chunks(organisation_id: int | str) -> Iterator[str]:
    """The same document as ``bundle_for``, as JSON text a piece at a time."""
    org = str(organisation_id).strip()
    header = _header(org)
    yield json.dumps(header, ensure_ascii=False)[:-1]  # without the closing brace
    yield ', "checkpoints": ' + json.dumps(checkpoints(), ensure_ascii=False)
    yield ', "events": ['
    first = True
    for event in events_of(org):
        yield ("\n" if first else ",\n") + json.dumps(event, ensure_ascii=False)
        first = False
    yield "\n]}\n"


def filename_for(organisation_id: int | str) -> str:
    return f"accord-audit-bundle-{organisation_id}-{timezone.now():%Y%m%d}.json"
