"""The canonical form of an audit event and its hash.

The hash is SHA-256 over the RFC 8785 (JSON Canonicalization Scheme) serialisation of the
event's fields, including the previous event's hash. The same event therefore hashes to the same
value on SQLite and PostgreSQL, and after a backup and restore.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import rfc8785

HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor",
    "actor_label",
    "organisation",
    "organisation_name",
    "subject_organisation",
    "action",
    "target",
    "purpose",
    "outcome",
    "reason",
    "details",
    "prev_hash",
)


def timestamp(value: datetime) -> str:
    """UTC, microsecond precision, 'Z' suffix: one spelling for every database."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(fields: Mapping[str, Any]) -> bytes:
    document = {name: fields[name] for name in HASHED_FIELDS}
    document["occurred_at"] = timestamp(document["occurred_at"])
    return rfc8785.dumps(document)


def event_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(fields)).hexdigest()
