"""Checking the audit chain: nothing edited, removed, reordered or cut off.

``verify_chain`` walks every event in order (bounded memory) and checks:

- each event's stored hash against the hash of its contents (an edited event);
- that numbering has no gaps (a deleted event);
- that each event names the previous event's hash (reordered, replaced or inserted events);
- the signed checkpoints the chain carries ("audit.checkpoint.created" events) and the stored
  checkpoint rows, against the pinned public key;
- optionally a checkpoint kept outside Accord: its signature must be the pinned key's and the
  event it names must still be there with the signed hash (truncation or rewriting);
- that the head row agrees with the newest event.

The pinned key is the platform's own public key unless one is given. The public key inside a
checkpoint document is never trusted: anyone can put their own key there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from . import signing
from .chain import HASHED_FIELDS, event_hash, timestamp
from .checkpoints import (
    CHAIN_NAME,
    CHECKPOINT_ACTION,
    PAYLOAD_FIELDS,
    CheckpointFileError,
    signature_is_valid,
    validate_checkpoint_document,
)
from .enums import GENESIS_HASH
from .models import AuditCheckpoint, AuditEvent, AuditHead

Progress = Callable[[int, int], None]

CHUNK_SIZE = 2000
MAX_LISTED_PROBLEMS = 100
_CATCH_UP_ROUNDS = 50


class VerificationInputError(Exception):
    """The verification cannot run as asked (an unusable checkpoint or key). Not a finding."""


@dataclass
class VerificationResult:
    ok: bool
    events_checked: int
    head_seq: int  # the newest event found (0 for an empty chain)
    head_hash: str
    problems: list[str] = field(default_factory=list)
    first_broken_seq: int | None = None
    # The outside checkpoint, when one was given and its signature is good.
    checkpoint_seq: int | None = None
    checkpoint_signed_at: str | None = None
    signatures_checked: int = 0  # checkpoint signatures found good (in the chain and stored)
    signatures_skipped: int = 0  # checkpoints signed by another key, or no key to check with
    key_id: str | None = None  # the pinned key
    notes: list[str] = field(default_factory=list)


@dataclass
class _Anchor:
    seq: int
    hash: str
    signed_at: str
    source: str
    found: bool = False


def verify_chain(
    checkpoint: dict[str, Any] | None = None,
    public_key_pem: bytes | None = None,
    progress: Progress | None = None,
    *,
    chunk_size: int = CHUNK_SIZE,
) -> VerificationResult:
    """Verify the whole chain; optionally against a checkpoint kept elsewhere.

    Raises ``VerificationInputError`` when the checkpoint or public key given cannot be used.
    ``progress(checked, total)`` is called as events are checked.
    """
    walker = _Walker()
    key = _pinned_key(public_key_pem, walker, needed=checkpoint is not None)
    if checkpoint is not None:
        assert key is not None
        walker.check_outside_checkpoint(checkpoint, key)
    walker.add_stored_checkpoints(key)
    walker.key = key

    total = AuditEvent.objects.count() if progress else 0
    walker.walk(_events(0, chunk_size), progress, total, chunk_size)

    # The head row is read after the walk. A writer commits its event and the head together,
    # so a head ahead of the newest event seen means either events added meanwhile (check them
    # too) or a removed tail (nothing more to find).
    caught_up = False
    head = None
    for _ in range(_CATCH_UP_ROUNDS):
        head = AuditHead.objects.filter(pk=1).values("seq", "hash").first()
        if head is None or head["seq"] <= walker.last_seq or walker.stopped:
            caught_up = True
            break
        before = walker.checked
        walker.walk(_events(walker.last_seq, chunk_size), progress, total, chunk_size)
        if walker.checked == before:
            caught_up = True
            break
    if caught_up:
        walker.check_head(head)
    else:
        walker.notes.append(
            f"Events were being added throughout; the chain was checked up to event "
            f"{walker.last_seq}."
        )
    walker.check_unfound_anchors()
    if progress:
        progress(walker.checked, max(total, walker.checked))
    return walker.result()


def _pinned_key(
    public_key_pem: bytes | None, walker: _Walker, *, needed: bool
) -> Ed25519PublicKey | None:
    if public_key_pem is not None:
        try:
            return signing.load_public_key_pem(public_key_pem, source="The public key given")
        except signing.SigningKeyError as exc:
            raise VerificationInputError(str(exc)) from exc
    try:
        return signing.private_key(create=False).public_key()
    except signing.SigningKeyError as exc:
        if needed:
            raise VerificationInputError(
                f"Cannot check the checkpoint's signature without Accord's public key: {exc} "
                "Give the public key file instead (accord audit verify --public-key FILE)."
            ) from exc
        walker.key_problem = str(exc)
        return None


def _events(after_seq: int, chunk_size: int) -> Iterator[dict[str, Any]]:
    rows = (
        AuditEvent.objects.filter(seq__gt=after_seq).order_by("seq").values(*HASHED_FIELDS, "hash")
    )
    return rows.iterator(chunk_size=chunk_size)


def human_time(signed_at: str) -> str:
    """'2026-11-21T06:07:08.123456Z' -> '2026-11-21 06:07:08 UTC' for people."""
    if len(signed_at) >= 19 and signed_at[10] == "T":
        return f"{signed_at[:10]} {signed_at[11:19]} UTC"
    return signed_at


class _Walker:
    def __init__(self) -> None:
        self.key: Ed25519PublicKey | None = None
        self.expected_seq = 1
        self.last_seq = 0
        self.last_hash = GENESIS_HASH
        self.checked = 0
        self.stopped = False
        self.problems: list[str] = []
        self.unlisted = 0
        self.first_broken: int | None = None
        self.anchors: dict[int, list[_Anchor]] = {}
        self.outside: _Anchor | None = None
        self.signatures_checked = 0
        self.signatures_skipped = 0
        self.notes: list[str] = []
        self.key_problem = ""

    # Findings ----------------------------------------------------------------------------------

    def problem(self, text: str, seq: int | None = None) -> None:
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(text)
        else:
            self.unlisted += 1
        if seq is not None and (self.first_broken is None or seq < self.first_broken):
            self.first_broken = seq

    def result(self) -> VerificationResult:
        if self.key is None and self.signatures_skipped:
            self.notes.append(
                f"{self.signatures_skipped} checkpoint signature(s) were not checked, for want "
                f"of Accord's public key: {self.key_problem}"
            )
        problems = list(self.problems)
        if self.unlisted:
            problems.append(f"... and {self.unlisted} more problems not listed.")
        return VerificationResult(
            ok=not problems,
            events_checked=self.checked,
            head_seq=self.last_seq,
            head_hash=self.last_hash,
            problems=problems,
            first_broken_seq=self.first_broken,
            checkpoint_seq=self.outside.seq if self.outside else None,
            checkpoint_signed_at=self.outside.signed_at if self.outside else None,
            signatures_checked=self.signatures_checked,
            signatures_skipped=self.signatures_skipped,
            key_id=signing.key_id(self.key) if self.key else None,
            notes=list(self.notes),
        )

    # Checkpoints -------------------------------------------------------------------------------

    def _anchor(self, anchor: _Anchor) -> None:
        if anchor.seq == 0:  # a checkpoint of the empty chain
            anchor.found = True
            if anchor.hash != GENESIS_HASH:
                self.problem(
                    f"The {anchor.source} signed at {human_time(anchor.signed_at)} names event 0 "
                    "with a hash other than the start of the chain."
                )
            return
        self.anchors.setdefault(anchor.seq, []).append(anchor)

    def check_outside_checkpoint(self, checkpoint: dict[str, Any], key: Ed25519PublicKey) -> None:
        try:
            document = validate_checkpoint_document(checkpoint)
        except CheckpointFileError as exc:
            raise VerificationInputError(str(exc)) from exc
        pinned = signing.key_id(key)
        if not signature_is_valid(document, document["signature"], key):
            if document["key_id"] != pinned:
                self.problem(
                    f"The checkpoint was signed by another key (key id {document['key_id']}), "
                    f"not by the expected key (key id {pinned}), so it proves nothing about "
                    "this audit log."
                )
            else:
                self.problem(
                    "The checkpoint's signature is not valid: the checkpoint was altered or "
                    "forged, so it proves nothing about this audit log."
                )
            return
        self.outside = _Anchor(
            seq=document["seq"],
            hash=document["hash"],
            signed_at=document["signed_at"],
            source="checkpoint",
        )
        self._anchor(self.outside)

    def add_stored_checkpoints(self, key: Ed25519PublicKey | None) -> None:
        """Stored checkpoint rows signed by the pinned key are anchors too."""
        pinned = signing.key_id(key) if key else None
        for row in AuditCheckpoint.objects.order_by("seq", "signed_at").iterator():
            if key is None or row.key_id != pinned:
                self.signatures_skipped += 1
                continue
            fields: dict[str, Any] = {
                "chain": CHAIN_NAME,
                "seq": row.seq,
                "hash": row.head_hash,
                "signed_at": timestamp(row.signed_at),
                "key_id": row.key_id,
            }
            if not signature_is_valid(fields, row.signature, key):
                self.problem(
                    f"The stored checkpoint of event {row.seq} (number {row.pk}) does not carry "
                    "a valid signature: the checkpoint table was altered."
                )
                continue
            self.signatures_checked += 1
            self._anchor(
                _Anchor(
                    seq=row.seq,
                    hash=row.head_hash,
                    signed_at=fields["signed_at"],
                    source="stored checkpoint",
                )
            )

    def _check_recorded_checkpoint(self, event: dict[str, Any]) -> None:
        """An "audit.checkpoint.created" event carries the statement signed just before it."""
        seq = event["seq"]
        claim = event["details"]
        if not isinstance(claim, dict) or any(
            name not in claim for name in (*PAYLOAD_FIELDS, "signature")
        ):
            return  # not a signed statement (an old or hand-made event); nothing to check
        if self.key is None or claim["key_id"] != signing.key_id(self.key):
            self.signatures_skipped += 1
            return
        if not signature_is_valid(claim, claim["signature"], self.key):
            self.problem(
                f"Event {seq} records a checkpoint whose signature is not valid: it was forged "
                "or altered.",
                seq,
            )
            return
        self.signatures_checked += 1
        if claim["seq"] != self.last_seq:
            if claim["seq"] < self.last_seq:
                self.problem(
                    f"Event {seq} records a checkpoint of event {claim['seq']}, but a checkpoint "
                    "is always recorded straight after the event it signs: events were "
                    "inserted or renumbered.",
                    seq,
                )
            return  # the signed event is missing: the gap is already reported
        if claim["hash"] != self.last_hash:
            self.problem(
                f"The chain no longer contains event {claim['seq']} as signed at "
                f"{human_time(claim['signed_at'])} (checkpoint recorded in event {seq}): events "
                "were removed or rewritten.",
                claim["seq"],
            )

    def check_unfound_anchors(self) -> None:
        for anchors in self.anchors.values():
            for anchor in anchors:
                if anchor.found:
                    continue
                first_missing = self.last_seq + 1 if anchor.seq > self.last_seq else anchor.seq
                self.problem(
                    f"The chain no longer contains event {anchor.seq} as signed at "
                    f"{human_time(anchor.signed_at)} ({anchor.source}): events were removed or "
                    "rewritten.",
                    first_missing,
                )

    # The chain ---------------------------------------------------------------------------------

    def walk(
        self,
        events: Iterator[dict[str, Any]],
        progress: Progress | None,
        total: int,
        chunk_size: int,
    ) -> None:
        while not self.stopped:
            try:
                event = next(events)
            except StopIteration:
                return
            except (ValueError, TypeError, AttributeError, KeyError) as exc:
                self.stopped = True
                self.problem(
                    f"The event after event {self.last_seq} cannot be read ({exc}): its stored "
                    "fields are malformed, so the log was damaged or tampered with. "
                    "Verification stopped there.",
                    self.last_seq + 1,
                )
                return
            self.step(event)
            if progress and self.checked % chunk_size == 0:
                progress(self.checked, max(total, self.checked))

    def step(self, event: dict[str, Any]) -> None:
        seq = event["seq"]
        if seq < self.expected_seq:
            self.problem(
                f"An event numbered {seq} is in the log, but numbering starts at 1: it was "
                "inserted.",
                1,
            )
            return
        after_gap = seq > self.expected_seq
        if after_gap:
            if seq == self.expected_seq + 1:
                missing = f"Event {self.expected_seq} is missing"
            else:
                missing = f"Events {self.expected_seq} to {seq - 1} are missing"
            self.problem(f"{missing}: removed from the log.", self.expected_seq)

        issues = []
        try:
            altered = event_hash(event) != event["hash"]
        except Exception:  # contents that cannot even be put in canonical form were edited
            altered = True
        if altered:
            issues.append(
                "was altered after it was recorded: its contents no longer match its hash"
            )
        if not after_gap and event["prev_hash"] != self.last_hash:
            if seq == 1:
                issues.append("does not start the chain: its link to the start is broken")
            else:
                issues.append(
                    f"does not follow event {seq - 1}: the link between them is broken (events "
                    f"were reordered, replaced or inserted, or event {seq - 1} was rewritten)"
                )
        if issues:
            self.problem(f"Event {seq} " + "; and it ".join(issues) + ".", seq)

        if event["action"] == CHECKPOINT_ACTION:
            self._check_recorded_checkpoint(event)
        for anchor in self.anchors.get(seq, ()):
            anchor.found = True
            if event["hash"] != anchor.hash:
                self.problem(
                    f"The chain no longer contains event {seq} as signed at "
                    f"{human_time(anchor.signed_at)} ({anchor.source}): events were removed or "
                    "rewritten.",
                    seq,
                )

        self.checked += 1
        self.expected_seq = seq + 1
        self.last_seq = seq
        self.last_hash = event["hash"]

    def check_head(self, head: Mapping[str, Any] | None) -> None:
        if head is None:
            self.problem("The chain head row is missing: the log's bookkeeping was deleted.")
            return
        if self.stopped:
            return
        if head["seq"] > self.last_seq:
            newest = f"event {self.last_seq}" if self.last_seq else "no event at all"
            self.problem(
                f"The chain head says the newest event is {head['seq']}, but the log ends at "
                f"{newest}: the newest events were removed.",
                self.last_seq + 1,
            )
        elif head["seq"] < self.last_seq:
            self.problem(
                f"The log has events after event {head['seq']}, the newest one the chain head "
                f"knows of: events from {head['seq'] + 1} on were added outside Accord.",
                head["seq"] + 1,
            )
        elif head["hash"] != self.last_hash:
            self.problem(
                f"The chain head records a different hash for event {head['seq']} than the "
                "event has: the event or the head was rewritten.",
                head["seq"],
            )
