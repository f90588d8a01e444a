"""An organisation's audit log: who may read it, that it shows this organisation's events and
never another's, the filters, and the CSV download."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accord.audit.actions import record
from accord.audit.actor import Actor, ActorKind
from accord.audit.enums import Outcome
from accord.audit.queries import CSV_COLUMNS
from accord.organisations.enums import Role

from .helpers import (
    actions_after,
    assert_forbidden_page,
    assert_redirects_to_sign_in,
    events_after,
    join,
    last_seq,
    only,
    person,
    signed_in_client,
    texts,
)

AUDIT = "/organisation/audit/"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def someone_acting_for(organisation, label: str, user_id: int = 900001) -> Actor:
    return Actor(
        kind=ActorKind.PERSON,
        ref=f"user:{user_id}",
        label=label,
        organisation_id=str(organisation.pk),
        organisation_name=organisation.name,
    )


@pytest.fixture
def events(council, other_council) -> None:
    """Events by and about the council, and events that are none of its business."""
    ours = someone_acting_for(council, "officer@maidstone.example")
    theirs = someone_acting_for(other_council, "visitor@kent.example", 900002)
    record(by=ours, action="test.own.done", target="thing:1")
    record(
        by=someone_acting_for(council, "refuser@maidstone.example", 900003),
        action="test.own.refused",
        outcome=Outcome.REFUSED,
        reason="Not allowed this time",
    )
    record(
        by=theirs,
        action="test.about.maidstone",
        target="submission:41",
        subject_organisation_id=str(council.pk),
    )
    record(
        by=someone_acting_for(other_council, "secret.agent@kent.example", 900004),
        action="test.kent.private",
        target="submission:kent-only-42",
    )
    record(
        by=Actor.system(),
        action="test.system.about.kent",
        subject_organisation_id=str(other_council.pk),
    )
    record(by=Actor.anonymous("anonymous@example.org"), action="test.no.organisation")


OURS = ("test.own.done", "test.own.refused", "test.about.maidstone")
NOT_OURS = (  # three actions, then text that appears only in those events
    "test.kent.private",
    "test.system.about.kent",
    "test.no.organisation",
    "secret.agent",
    "kent-only-42",
)


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].startswith("attachment;")
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


# Who may read it -----------------------------------------------------------------------------


def test_signed_out_goes_to_sign_in(client: Client) -> None:
    assert_redirects_to_sign_in(client.get(AUDIT), AUDIT)
    before = last_seq()
    response = client.get(AUDIT + "?format=csv")
    assert response.status_code == 302
    assert actions_after(before) == []


@pytest.mark.parametrize("role", [Role.ANALYST, Role.DATA_OFFICER, Role.VIEWER])
def test_members_without_an_audit_role_are_refused(council, events, role) -> None:
    client = signed_in_client(person(council, role), council)
    before = last_seq()
    response = client.get(AUDIT)
    assert_forbidden_page(response)
    assert council.name in texts(response)
    for name in OURS:
        assert name not in texts(response)
    assert_forbidden_page(client.get(AUDIT + "?format=csv"))
    assert "audit.events.downloaded" not in actions_after(before)


def test_an_audit_reader_elsewhere_is_refused_when_acting_for_this_organisation(
    council, other_council, events
) -> None:
    dpo = person(other_council, Role.DPO)
    join(dpo, council, Role.VIEWER)
    client = signed_in_client(dpo, council)
    assert_forbidden_page(client.get(AUDIT))


@pytest.mark.parametrize("role", [Role.ORGANISATION_ADMIN, Role.DPO, Role.SIRO])
def test_admins_dpos_and_siros_read_their_organisations_events_and_no_others(
    council, events, role
) -> None:
    client = signed_in_client(person(council, role), council)
    response = client.get(AUDIT)
    assert response.status_code == 200
    page = texts(response)
    assert f"Audit log of {council.name}" in page
    for name in OURS:
        assert name in page
    for name in NOT_OURS:
        assert name not in page
    assert "officer@maidstone.example" in page
    assert "Not allowed this time" in page


def test_the_other_organisation_sees_its_own_and_not_ours(council, other_council, events) -> None:
    client = signed_in_client(person(other_council, Role.DPO), other_council)
    page = texts(client.get(AUDIT))
    assert "test.kent.private" in page
    assert "test.system.about.kent" in page
    assert "test.about.maidstone" in page  # Kent did it, so Kent sees it too
    assert "test.own.done" not in page
    assert "test.own.refused" not in page
    assert "officer@maidstone.example" not in page


def test_events_are_shown_as_text_never_as_markup(council) -> None:
    record(
        by=someone_acting_for(council, '<script>alert("x")</script>@example.org'),
        action="test.<b>bold</b>",
    )
    client = signed_in_client(person(council, Role.ORGANISATION_ADMIN), council)
    page = texts(client.get(AUDIT))
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;" in page
    assert "<b>bold</b>" not in page


# Filters -------------------------------------------------------------------------------------


def test_filters(council, events) -> None:
    client = signed_in_client(person(council, Role.DPO), council)
    today = timezone.localdate()

    def shown(query: str) -> set[str]:
        response = client.get(AUDIT + "?" + query)
        assert response.status_code == 200
        page = texts(response)
        assert "govuk-error-summary" not in page, query
        return {name for name in (*OURS, *NOT_OURS[:3]) if name in page}

    assert shown("outcome=refused") == {"test.own.refused"}
    assert shown("action=own") == {"test.own.done", "test.own.refused"}
    assert shown("action=MAIDSTONE") == {"test.about.maidstone"}
    assert shown("action=kent") == set()
    assert shown("person=officer@maidstone") == {"test.own.done"}
    assert shown("person=visitor@kent") == {"test.about.maidstone"}
    assert shown("person=secret.agent") == set()
    assert shown(f"since={today}&until={today}") == set(OURS)
    assert shown(f"since={today + timedelta(days=1)}") == set()
    assert shown(f"until={today - timedelta(days=1)}") == set()
    assert shown(f"outcome=success&since={today}&action=test.") == {
        "test.own.done",
        "test.about.maidstone",
    }


def test_a_to_date_before_the_from_date_is_an_error(council, events) -> None:
    client = signed_in_client(person(council, Role.DPO), council)
    today = timezone.localdate()
    response = client.get(f"{AUDIT}?since={today}&until={today - timedelta(days=1)}")
    assert response.status_code == 200
    assert "The to date must be the same as or after the from date" in texts(response)
    response = client.get(f"{AUDIT}?since=2026-02-31")
    assert "Enter the from date as a real date" in texts(response)
    response = client.get(f"{AUDIT}?outcome=maybe")
    assert "govuk-error-summary" in texts(response)


# CSV download --------------------------------------------------------------------------------


def test_csv_download_has_the_header_and_the_filtered_rows_and_is_audited(council, events) -> None:
    dpo = person(council, Role.DPO)
    client = signed_in_client(dpo, council)
    before = last_seq()
    rows = read_csv(client.get(AUDIT + "?format=csv&action=test.own"))
    assert rows[0] == list(CSV_COLUMNS)
    action = CSV_COLUMNS.index("action")
    assert sorted(row[action] for row in rows[1:]) == ["test.own.done", "test.own.refused"]

    event = only(events_after(before))
    assert event.action == "audit.events.downloaded"
    assert event.actor == f"user:{dpo.pk}"
    assert event.organisation == str(council.pk)
    assert event.target == f"organisation:{council.pk}"
    assert event.details == {"action": "test.own"}


def test_csv_download_never_includes_another_organisations_events(council, events) -> None:
    client = signed_in_client(person(council, Role.ORGANISATION_ADMIN), council)
    rows = read_csv(client.get(AUDIT + "?format=csv"))
    body = "\n".join(",".join(row) for row in rows)
    for name in OURS:
        assert name in body
    for name in NOT_OURS:
        assert name not in body
    organisation = CSV_COLUMNS.index("organisation")
    subject = CSV_COLUMNS.index("subject_organisation")
    for row in rows[1:]:
        assert str(council.pk) in (row[organisation], row[subject])


def test_csv_download_escapes_formulas(council) -> None:
    record(
        by=someone_acting_for(council, '=HYPERLINK("http://evil.example","click")'),
        action="test.formula",
        target="+1+1",
        purpose="@SUM(A1:A9)",
        reason="-2+3",
    )
    record(by=someone_acting_for(council, "\tTAB@example.org"), action="test.formula.tab")
    client = signed_in_client(person(council, Role.ORGANISATION_ADMIN), council)
    rows = read_csv(client.get(AUDIT + "?format=csv&action=formula"))
    assert len(rows) == 3
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell
    formula = next(r for r in rows[1:] if r[CSV_COLUMNS.index("action")] == "test.formula")
    assert (
        formula[CSV_COLUMNS.index("actor_label")] == '\'=HYPERLINK("http://evil.example","click")'
    )
    assert formula[CSV_COLUMNS.index("target")] == "'+1+1"
    assert formula[CSV_COLUMNS.index("purpose")] == "'@SUM(A1:A9)"
    assert formula[CSV_COLUMNS.index("reason")] == "'-2+3"


def test_a_csv_download_with_invalid_filters_shows_the_error_instead(council, events) -> None:
    client = signed_in_client(person(council, Role.DPO), council)
    today = timezone.localdate()
    before = last_seq()
    response = client.get(
        f"{AUDIT}?format=csv&action=test.own&since={today}&until={today - timedelta(days=1)}"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "The to date must be the same as or after the from date" in texts(response)
    assert "audit.events.downloaded" not in actions_after(before)
