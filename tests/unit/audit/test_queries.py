"""Reading an organisation's events, CSV export (safe from formula injection), checkpoints."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from accord.audit.actions import record
from accord.audit.actor import Actor, ActorKind
from accord.audit.checkpoints import create_checkpoint
from accord.audit.enums import Outcome
from accord.audit.queries import (
    CSV_COLUMNS,
    csv_cell,
    csv_rows,
    events_for_organisation,
    latest_checkpoint,
    list_checkpoints,
)

pytestmark = pytest.mark.django_db


def person(ref: str, label: str, org: str) -> Actor:
    return Actor(
        kind=ActorKind.PERSON,
        ref=ref,
        label=label,
        organisation_id=org,
        organisation_name=f"Council {org}",
    )


ALEX = person("user:1", "Alex.Smith@cardiff.example", "1")
BEA = person("user:2", "bea@swansea.example", "2")


@pytest.fixture
def log() -> dict[str, int]:
    """Events by Cardiff (1), about Cardiff by Swansea (2), Swansea's own, and system ones."""
    seqs = {
        "cardiff_signed_in": record(by=ALEX, action="auth.signed_in").seq,
        "swansea_about_cardiff": record(
            by=BEA,
            action="access.decided",
            outcome=Outcome.DENY,
            subject_organisation_id="1",
            reason="no active agreement",
        ).seq,
        "swansea_own": record(by=BEA, action="auth.signed_in").seq,
        "system": record(by=Actor.system(), action="demo.loaded").seq,
        "cardiff_refused": record(by=ALEX, action="member.added", outcome=Outcome.REFUSED).seq,
    }
    return seqs


def _seqs(found: object) -> list[int]:
    return [event.seq for event in found]  # type: ignore[attr-defined]


def test_an_organisation_sees_its_own_events_and_events_about_it_newest_first(
    log: dict[str, int],
) -> None:
    assert _seqs(events_for_organisation("1")) == [
        log["cardiff_refused"],
        log["swansea_about_cardiff"],
        log["cardiff_signed_in"],
    ]
    assert _seqs(events_for_organisation("2")) == [
        log["swansea_own"],
        log["swansea_about_cardiff"],
    ]


def test_no_organisation_sees_nothing(log: dict[str, int]) -> None:
    """The empty id would otherwise match every event that has no organisation."""
    assert _seqs(events_for_organisation("")) == []
    assert _seqs(events_for_organisation("3")) == []


def test_filters(log: dict[str, int]) -> None:
    assert _seqs(events_for_organisation("1", action="signed_in")) == [log["cardiff_signed_in"]]
    assert _seqs(events_for_organisation("1", action="AUTH.SIGNED_IN")) == [
        log["cardiff_signed_in"]
    ]
    assert _seqs(events_for_organisation("1", actor="alex.smith")) == [
        log["cardiff_refused"],
        log["cardiff_signed_in"],
    ]
    assert _seqs(events_for_organisation("1", actor="swansea")) == [log["swansea_about_cardiff"]]
    assert _seqs(events_for_organisation("1", outcome="deny")) == [log["swansea_about_cardiff"]]
    assert _seqs(events_for_organisation("1", outcome="deny", actor="alex")) == []


def test_date_filters_cover_whole_days(log: dict[str, int]) -> None:
    today = timezone.localdate()
    day = timedelta(days=1)
    assert len(_seqs(events_for_organisation("1", since=today, until=today))) == 3
    assert _seqs(events_for_organisation("1", since=today + day)) == []
    assert _seqs(events_for_organisation("1", until=today - day)) == []


def test_datetime_filters_are_exact(log: dict[str, int]) -> None:
    middle = events_for_organisation("1").get(seq=log["swansea_about_cardiff"]).occurred_at
    assert _seqs(events_for_organisation("1", since=middle)) == [
        log["cardiff_refused"],
        log["swansea_about_cardiff"],
    ]
    assert _seqs(events_for_organisation("1", until=middle)) == [
        log["swansea_about_cardiff"],
        log["cardiff_signed_in"],
    ]


# CSV -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("plain text", "plain text"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_csv_cells_cannot_be_formulas(value: object, expected: str) -> None:
    assert csv_cell(value) == expected


def test_csv_rows_escape_every_column() -> None:
    nasty = Actor(
        kind=ActorKind.PERSON,
        ref="user:9",
        label="=cmd|' /C calc'!A0",
        organisation_id="1",
        organisation_name="@Council",
    )
    record(
        by=nasty,
        action="test.csv",
        target="+target",
        purpose="-purpose",
        reason="\treason",
        details={"note": "=1+1"},
    )
    rows = list(csv_rows(events_for_organisation("1")))
    assert rows[0] == list(CSV_COLUMNS)
    row = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert row["actor_label"] == "'=cmd|' /C calc'!A0"
    assert row["organisation_name"] == "'@Council"
    assert row["target"] == "'+target"
    assert row["purpose"] == "'-purpose"
    assert row["reason"] == "'\treason"
    assert row["details"] == '{"note": "=1+1"}'  # starts with "{": harmless
    assert row["seq"] == "1"
    assert row["occurred_at"].endswith("Z")

    # What a spreadsheet would read back from the file.
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    for cell in list(csv.reader(io.StringIO(buffer.getvalue())))[1]:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_csv_of_no_events_is_just_the_header() -> None:
    assert list(csv_rows(events_for_organisation("1"))) == [list(CSV_COLUMNS)]


# Checkpoints -----------------------------------------------------------------------------------


def test_checkpoints_are_listed_newest_first() -> None:
    assert latest_checkpoint() is None
    record(by=ALEX, action="x")
    first = create_checkpoint(by=Actor.system())
    second = create_checkpoint(by=Actor.system())
    assert list(list_checkpoints()) == [second, first]
    assert latest_checkpoint() == second
