"""The canonical form and hash of an event, and record() building the chain."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from accord.audit.actions import record
from accord.audit.chain import HASHED_FIELDS, canonical_bytes, event_hash
from accord.audit.enums import GENESIS_HASH, Outcome
from accord.audit.models import AuditEvent, AuditHead
from accord.audit.verification import verify_chain

from .helpers import PERSON, add_events

KNOWN_FIELDS: dict[str, Any] = {
    "seq": 1,
    "occurred_at": datetime(2026, 11, 21, 6, 7, 8, 123456, tzinfo=UTC),
    "actor": "user:12",
    "actor_label": "sam@example.org",
    "organisation": "7",
    "organisation_name": "Cardiff Council",
    "subject_organisation": "",
    "action": "organisation.member.added",
    "target": "membership:3",
    "purpose": "",
    "outcome": "success",
    "reason": "",
    # Keys deliberately out of order; non-ASCII text; a float.
    "details": {
        "roles": ["analyst"],
        "member": "alex@example.org",
        "ratio": 0.5,
        "count": 3,
        "note": "£ café",
    },
    "prev_hash": "0" * 64,
}
# Written out by hand from RFC 8785: keys sorted, no spaces, UTF-8 text, ES6 numbers.
KNOWN_CANONICAL = (
    '{"action":"organisation.member.added","actor":"user:12","actor_label":"sam@example.org",'
    '"details":{"count":3,"member":"alex@example.org","note":"£ café","ratio":0.5,'
    '"roles":["analyst"]},"occurred_at":"2026-11-21T06:07:08.123456Z","organisation":"7",'
    '"organisation_name":"Cardiff Council","outcome":"success","prev_hash":"'
    + "0" * 64
    + '","purpose":"","reason":"","seq":1,"subject_organisation":"","target":"membership:3"}'
).encode("utf-8")
KNOWN_HASH = "69a20f30367af82a742595edcc18ec8d69cef93dce482c79bbe6f3da2c0c5188"


def test_canonical_form_is_the_known_vector() -> None:
    assert canonical_bytes(KNOWN_FIELDS) == KNOWN_CANONICAL
    assert hashlib.sha256(KNOWN_CANONICAL).hexdigest() == KNOWN_HASH
    assert event_hash(KNOWN_FIELDS) == KNOWN_HASH


def test_hash_ignores_time_zone_spelling_and_key_order() -> None:
    london = KNOWN_FIELDS["occurred_at"].astimezone(ZoneInfo("Europe/London"))
    shifted = KNOWN_FIELDS["occurred_at"].astimezone(timezone(timedelta(hours=-5)))
    reordered = dict(reversed(list(KNOWN_FIELDS.items())))
    reordered["details"] = dict(sorted(KNOWN_FIELDS["details"].items()))
    assert event_hash({**KNOWN_FIELDS, "occurred_at": london}) == KNOWN_HASH
    assert event_hash({**KNOWN_FIELDS, "occurred_at": shifted}) == KNOWN_HASH
    assert event_hash(reordered) == KNOWN_HASH


def test_fields_outside_the_hashed_set_do_not_count() -> None:
    assert event_hash({**KNOWN_FIELDS, "hash": "x", "id": 99}) == KNOWN_HASH


# Any change to any hashed field changes the hash ---------------------------------------------

SAFE_INT = 2**53 - 1  # RFC 8785 numbers are IEEE doubles
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-SAFE_INT, SAFE_INT)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
details = st.dictionaries(st.text(max_size=8), json_values, max_size=5)
# What calling code might pass: any integer, any float (NaN and infinities too).
wild_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
wild_details = st.dictionaries(st.text(max_size=8), wild_values, max_size=5)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
hashes = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "seq": st.integers(1, SAFE_INT),
    "occurred_at": moments,
    "details": details,
    "prev_hash": hashes,
    "outcome": st.sampled_from(Outcome.values),
}
TEXT = st.text(max_size=40)


def _value(name: str) -> st.SearchStrategy[Any]:
    return FIELD_VALUES.get(name, TEXT)


events = st.fixed_dictionaries({name: _value(name) for name in HASHED_FIELDS})


@given(event=events, data=st.data())
def test_any_change_to_any_hashed_field_changes_the_hash(event: dict[str, Any], data: Any) -> None:
    name = data.draw(st.sampled_from(HASHED_FIELDS), label="field")
    new_value = data.draw(_value(name), label="new value")
    assume(new_value != event[name])
    assert event_hash({**event, name: new_value}) != event_hash(event)


@given(event=events)
def test_hash_is_deterministic(event: dict[str, Any]) -> None:
    assert event_hash(event) == event_hash(dict(event))


# record() ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_record_chains_events() -> None:
    first, second, third = add_events(3)
    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3
    head = AuditHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (3, third.hash)


@pytest.mark.django_db
def test_record_stores_what_it_hashed() -> None:
    event = record(
        by=PERSON,
        action="test.recorded",
        target="thing:1",
        purpose="testing",
        outcome=Outcome.DENY,
        reason="not today",
        details={"when": datetime(2026, 1, 2, tzinfo=UTC), "list": [1, "two"]},
        subject_organisation_id="202",
    )
    stored = AuditEvent.objects.values(*HASHED_FIELDS, "hash").get(pk=event.pk)
    assert event_hash(stored) == stored["hash"] == event.hash
    assert stored["organisation"] == "101"
    assert stored["organisation_name"] == "Test Council 101"
    assert stored["actor"] == "user:12"
    assert stored["outcome"] == "deny"
    assert stored["details"] == {"list": [1, "two"], "when": "2026-01-02 00:00:00+00:00"}


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(details=wild_details, label=st.text(max_size=40).filter(lambda s: "\x00" not in s))
def test_whatever_the_details_the_stored_event_still_verifies(
    details: dict[str, Any], label: str
) -> None:
    """Round trip through the database (JSON text on SQLite, jsonb on PostgreSQL)."""
    details = {k.replace("\x00", ""): v for k, v in details.items()}
    assume(not _has_nul(details))
    event = record(by=PERSON, action="test.round_trip", reason=label, details=details)
    stored = AuditEvent.objects.values(*HASHED_FIELDS, "hash").get(pk=event.pk)
    assert event_hash(stored) == event.hash
    assert verify_chain().ok


@pytest.mark.django_db
def test_numbers_json_cannot_keep_exactly_are_stored_as_text() -> None:
    event = record(
        by=PERSON,
        action="test.numbers",
        details={"big": 1e16, "huge": 2**64, "nan": float("nan"), "fine": 1.5, "int": 2**53 - 1},
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.details == {
        "big": "1e+16",
        "huge": "18446744073709551616",
        "nan": "nan",
        "fine": 1.5,
        "int": 2**53 - 1,
    }
    assert verify_chain().ok


def _has_nul(value: Any) -> bool:
    # PostgreSQL text and jsonb cannot hold U+0000 at all.
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


@pytest.mark.django_db
def test_a_nul_character_never_stops_an_event_being_recorded() -> None:
    """PostgreSQL refuses NUL in text and JSON; the event is kept with U+FFFD instead, the same
    on both databases, and the chain still verifies."""
    event = record(
        by=PERSON,
        action="test.thing.done",
        target="thing:\x001",
        reason="typed\x00by someone",
        details={"name\x00": ["a\x00b", {"deep": "c\x00"}]},
    )
    event.refresh_from_db()
    assert event.target == "thing:\ufffd1"
    assert event.reason == "typed\ufffdby someone"
    assert event.details == {"name\ufffd": ["a\ufffdb", {"deep": "c\ufffd"}]}
    assert verify_chain().ok
