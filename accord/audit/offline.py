"""Checking an audit bundle (``bundle.py``) offline: no database, only the file and a key.

``verify_bundle(document, public_key_pem)`` checks:

- every event's hash recomputes from its fields (an edited event);
- events whose numbers are consecutive are linked: the later names the earlier's hash;
- the first event of the chain (number 1) starts from the chain's start;
- every checkpoint's Ed25519 signature is valid under the pinned key;
- where an event's number is a checkpoint's, its hash is the signed hash; where it directly
  follows a checkpoint's event, it names the signed hash as the one before.

A bundle holds only one organisation's events; the events of others between them are left
out. So the links across those gaps cannot be checked here, and nothing here can show that
none of the organisation's events was removed between two checkpoints: only a check of the
whole chain can (``accord audit verify --checkpoint FILE``, run by the operator).

Nothing in this module reads the database; it imports only pure helpers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from . import signing
from .chain import HASHED_FIELDS, event_hash
from .checkpoints import CheckpointFileError, signature_is_valid, validate_checkpoint_document
from .enums import GENESIS_HASH

FORMAT = "accord-audit-bundle"
SUPPORTED_VERSIONS = (1,)
MAX_LISTED_PROBLEMS = 100
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

Progress = Callable[[int, int], None]

LIMITS = (
    "A bundle holds only your organisation's events, not the other events between them, so it "
    "cannot prove that none of your events was removed between two checkpoints, nor link your "
    "events across those gaps. For that, ask the operator of Accord to run "
    "`accord audit verify --checkpoint FILE` against the full chain, with a checkpoint you "
    "keep."
)
OWN_KEY_WARNING = (
    "No public key was given, so the key inside the bundle was used. A key taken from the file "
    "itself proves only that the bundle is consistent, not that Accord signed it: pin a key "
    "you obtained separately with --public-key FILE."
)


class BundleError(ValueError):
    """The bundle (or the key given) cannot be checked at all. Not a finding."""


@dataclass
class BundleResult:
    ok: bool
    organisation: str
    events_checked: int
    checkpoints_checked: int
    linked_pairs: int  # consecutive pairs whose link was checked
    anchored_events: int  # events tied to a signed checkpoint through unbroken links
    key_id: str
    key_from_bundle: bool
    first_seq: int | None = None
    last_seq: int | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def load_bundle(source: str | Path | bytes) -> dict[str, Any]:
    """Read a bundle from a path or from its bytes; ``BundleError`` when it is unusable."""
    if isinstance(source, bytes | bytearray):
        data, name = bytes(source), "The bundle"
    else:
        path = Path(source)
        name = f"The bundle file {path}"
        try:
            data = path.read_bytes()
        except IsADirectoryError as exc:
            raise BundleError(f"{name} is a folder, not a file.") from exc
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise BundleError(f"Cannot read the bundle file {path}: {reason}.") from exc
    if not data.strip():
        raise BundleError(f"{name} is empty.")
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BundleError(f"{name} is not text (it is not UTF-8 JSON).") from exc
    except json.JSONDecodeError as exc:
        raise BundleError(
            f"{name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from exc
    _check_shape(document, name)
    return document


def _check_shape(document: Any, name: str = "The bundle") -> None:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BundleError(f'{name} is not an Accord audit bundle ("format" is not "{FORMAT}").')
    if document.get("version") not in SUPPORTED_VERSIONS:
        raise BundleError(
            f"{name} is version {document.get('version')!r}, which this Accord cannot check "
            f"(it checks version {', '.join(map(str, SUPPORTED_VERSIONS))})."
        )
    if not isinstance(document.get("events"), list):
        raise BundleError(f'{name} has no "events" list.')
    if not isinstance(document.get("checkpoints"), list):
        raise BundleError(f'{name} has no "checkpoints" list.')


def _key(document: dict[str, Any], public_key_pem: bytes | None) -> tuple[Ed25519PublicKey, bool]:
    if public_key_pem is not None:
        try:
            return signing.load_public_key_pem(public_key_pem, source="The public key given"), False
        except signing.SigningKeyError as exc:
            raise BundleError(str(exc)) from exc
    own = document.get("public_key")
    if not isinstance(own, str) or not own.strip():
        raise BundleError(
            "The bundle carries no public key and none was given: give Accord's public key "
            "with --public-key FILE (download it from the audit checkpoints page)."
        )
    try:
        return signing.load_public_key_pem(own.encode("utf-8"), source="The bundle's key"), True
    except signing.SigningKeyError as exc:
        raise BundleError(str(exc)) from exc


def _hashed_form(event: Any) -> tuple[int, dict[str, Any]] | str:
    """(seq, fields ready for ``event_hash``), or why the event cannot be read."""
    if not isinstance(event, dict):
        return "is not a JSON object"
    missing = [name for name in (*HASHED_FIELDS, "hash") if name not in event]
    if missing:
        return f"is missing {', '.join(missing)}"
    seq = event["seq"]
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        return "has an invalid number"
    occurred = event["occurred_at"]
    try:
        moment = datetime.strptime(str(occurred), _TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return f"(number {seq}) has an invalid time {occurred!r}"
    return seq, {**{name: event[name] for name in HASHED_FIELDS}, "occurred_at": moment}


def verify_bundle(
    document: dict[str, Any],
    public_key_pem: bytes | None = None,
    progress: Progress | None = None,
) -> BundleResult:
    """Check a loaded bundle against ``public_key_pem`` (or, with a warning, its own key)."""
    _check_shape(document)
    key, from_bundle = _key(document, public_key_pem)
    pinned = signing.key_id(key)
    problems: list[str] = []
    notes: list[str] = [OWN_KEY_WARNING] if from_bundle else []

    # Checkpoints: signatures first, so events can be matched against good ones only.
    signed: dict[int, str] = {}  # seq -> signed hash
    checkpoints_checked = 0
    for n, raw in enumerate(document["checkpoints"], start=1):
        try:
            checkpoint = validate_checkpoint_document(raw, name=f"Checkpoint {n} in the bundle")
        except CheckpointFileError as exc:
            problems.append(f"{exc}")
            continue
        where = f"The checkpoint of event {checkpoint['seq']}"
        if not signature_is_valid(checkpoint, checkpoint["signature"], key):
            if checkpoint["key_id"] != pinned:
                problems.append(
                    f"{where} was signed by another key (key id {checkpoint['key_id']}), not by "
                    f"the pinned key (key id {pinned}), so it proves nothing."
                )
            else:
                problems.append(
                    f"{where} does not carry a valid signature: it was altered or forged."
                )
            continue
        checkpoints_checked += 1
        if signed.get(checkpoint["seq"], checkpoint["hash"]) != checkpoint["hash"]:
            problems.append(
                f"Two validly signed checkpoints name different hashes for event "
                f"{checkpoint['seq']}: the chain was rewritten between them."
            )
        signed[checkpoint["seq"]] = checkpoint["hash"]

    # Events: each hash, then links and anchors.
    events: list[tuple[int, dict[str, Any], str]] = []
    raw_events = document["events"]
    total = len(raw_events)
    for n, raw in enumerate(raw_events, start=1):
        read = _hashed_form(raw)
        if isinstance(read, str):
            problems.append(f"Event entry {n} in the bundle {read}, so it cannot be checked.")
            continue
        seq, fields = read
        try:
            altered = event_hash(fields) != raw["hash"]
        except Exception:  # contents that cannot even be put in canonical form
            altered = True
        if altered:
            problems.append(
                f"Event {seq} was altered after it was recorded: its contents no longer match "
                "its hash."
            )
        events.append((seq, fields, str(raw["hash"])))
        if progress and n % 1000 == 0:
            progress(n, total)

    events.sort(key=lambda item: item[0])
    linked = 0
    previous: tuple[int, str] | None = None
    anchored = 0
    run: list[int] = []  # seqs of the current run of consecutive events

    def close_run() -> int:
        # Events of the run up to its last signed event are anchored: each hash covers the
        # hash before it.
        signed_in_run = [s for s in run if s in signed]
        return len([s for s in run if s <= max(signed_in_run)]) if signed_in_run else 0

    for seq, fields, hash_ in events:
        if previous is not None and seq == previous[0]:
            problems.append(f"Event {seq} appears twice in the bundle.")
            continue
        if seq == 1 and fields["prev_hash"] != GENESIS_HASH:
            problems.append("Event 1 does not start the chain: its link to the start is broken.")
        if previous is not None and seq == previous[0] + 1:
            linked += 1
            if fields["prev_hash"] != previous[1]:
                problems.append(
                    f"Event {seq} does not follow event {previous[0]}: the link between them is "
                    "broken (events were reordered, replaced or inserted, or event "
                    f"{previous[0]} was rewritten)."
                )
        else:
            anchored += close_run()
            run = []
        run.append(seq)
        if seq in signed and hash_ != signed[seq]:
            problems.append(
                f"Event {seq} is not the event the checkpoint of event {seq} signed: its hash "
                "differs from the signed hash, so it was rewritten."
            )
        if seq - 1 in signed and fields["prev_hash"] != signed[seq - 1]:
            problems.append(
                f"Event {seq} does not follow the event the checkpoint of event {seq - 1} "
                "signed: events were rewritten or inserted."
            )
        previous = (seq, hash_)
    anchored += close_run()
    if progress:
        progress(total, total)

    if len(problems) > MAX_LISTED_PROBLEMS:
        extra = len(problems) - MAX_LISTED_PROBLEMS
        problems = [*problems[:MAX_LISTED_PROBLEMS], f"... and {extra} more problems not listed."]
    organisation = document.get("organisation")
    name = organisation.get("name") if isinstance(organisation, dict) else ""
    return BundleResult(
        ok=not problems,
        organisation=str(name or ""),
        events_checked=len(events),
        checkpoints_checked=checkpoints_checked,
        linked_pairs=linked,
        anchored_events=anchored,
        key_id=pinned,
        key_from_bundle=from_bundle,
        first_seq=events[0][0] if events else None,
        last_seq=events[-1][0] if events else None,
        problems=problems,
        notes=notes,
    )
