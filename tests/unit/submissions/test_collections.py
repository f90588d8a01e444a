"""Collections end to end on the real database, vault and task queue: contributors covered by
agreements (or the framework, for non-personal data), returns received, checked by the real
engine in a background task, accepted or rejected, superseded, and compiled with provenance."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from accord.access.decisions import decide
from accord.access.enums import Action
from accord.audit.actor import Actor
from accord.audit.exceptions import NotPermitted, Refused
from accord.audit.models import AuditEvent
from accord.organisations.enums import Role, Sector
from accord.standards.queries import get_standard
from accord.submissions import actions, queries
from accord.submissions.models import CompiledDataset, Submission
from accord.tasks.models import TaskProgress
from accord.vault.parquet import read_frame
from accord.vault.queries import resource_for
from tests.factories import (
    OrganisationFactory,
    care_home_csv,
    combined_authority,
    framework_of,
    member_actor,
)
from tests.tasks import run_queued_tasks

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)
DAY = dt.date(2026, 3, 1)
CARE_HOME = get_standard("care-home-daily-status", database=False)


@pytest.fixture
def gmca():
    return combined_authority()


@pytest.fixture
def homes():
    return [
        OrganisationFactory(name=f"{name} Care Home", sector=Sector.CARE_PROVIDER)
        for name in ("Oakleigh", "Kingfisher", "Riverside")
    ]


@pytest.fixture
def collection(gmca, homes):
    framework_of(gmca, *homes)
    from accord.agreements.models import Framework

    runner = member_actor(gmca, Role.ANALYST)
    made = actions.create_collection(
        by=runner,
        slug="care-homes-gm",
        name="Care home status, Greater Manchester",
        standard=CARE_HOME,
        schedule="daily",
        starts_on=DAY - dt.timedelta(days=3),
        deadline_days=1,
        deadline_time=dt.time(11, 0),
        framework=Framework.objects.get(),
    )
    for home in homes:
        actions.add_contributor(by=runner, collection=made, organisation=home)
    return made


def send(collection, home, *rows, caveats="", period=DAY):
    return actions.receive(
        by=member_actor(home, Role.DATA_OFFICER),
        collection=collection,
        period=period,
        filename="status.csv",
        source=care_home_csv(*rows),
        caveats=caveats,
        today=TODAY,
    )


def good(**change):
    return {"report_date": DAY.isoformat(), **change}


def test_a_good_return_is_accepted_and_compiled_with_provenance_and_caveats(
    collection, homes, gmca
) -> None:
    submission = send(collection, homes[0], good(), caveats="Closed wing not counted.")
    assert submission.state == "received"
    assert run_queued_tasks() == 2  # the check, then the compilation it queued
    submission.refresh_from_db()
    assert submission.state == "accepted"
    assert (submission.rows, submission.valid_rows, submission.errors) == (1, 1, 0)
    progress = TaskProgress.objects.get(pk=submission.progress_id)
    assert progress.state == "done"

    compiled = CompiledDataset.objects.get(collection=collection)
    owner = member_actor(gmca, Role.ANALYST)
    decision = decide(
        actor=owner,
        action=Action.VIEW,
        resource=resource_for(compiled.data),
        purpose=f"Running the collection “{collection.name}”",
    )
    frame = read_frame(compiled.data.id, by=owner, decision=decision)
    assert frame.columns[:4] == ["period", "organisation", "submission", "source_row"]
    assert frame.row(0, named=True)["organisation"] == "Oakleigh Care Home"
    assert frame["source_row"].to_list() == [2]
    assert frame.schema["registered_beds"] == pl.Int64
    assert frame["report_date"].to_list() == [DAY]
    assert {c["caveat"] for c in compiled.caveats} >= {"Closed wing not counted."}


def test_a_bad_return_is_rejected_and_what_was_accepted_stays(collection, homes) -> None:
    first = send(collection, homes[1], good())
    run_queued_tasks()
    bad = send(collection, homes[1], good(postcode="ME14 1XX9", registered_beds="forty"))
    run_queued_tasks()
    bad.refresh_from_db()
    first.refresh_from_db()
    assert bad.state == "rejected"
    assert "rows have errors" in bad.reason
    assert bad.errors == 2
    assert {r["field"] for r in bad.summary["rules"]} == {"postcode", "registered_beds"}
    assert first.state == "accepted"  # nothing accepted is lost by a later bad upload
    # The corrected file supersedes the first.
    fixed = send(collection, homes[1], good(registered_beds="41"))
    run_queued_tasks()
    fixed.refresh_from_db()
    first.refresh_from_db()
    assert fixed.state == "accepted"
    assert (first.state, first.superseded_by_id) == ("superseded", fixed.pk)
    compiled = CompiledDataset.objects.filter(collection=collection).order_by("-number").first()
    assert list(compiled.submissions.all()) == [fixed]
    # Earlier compilations are destroyed once replaced.
    older = CompiledDataset.objects.filter(collection=collection).exclude(pk=compiled.pk)
    assert older
    assert all(c.data.deleted_at is not None for c in older)


def test_set_aside_keeps_the_valid_rows_and_says_so(collection, homes) -> None:
    collection.invalid_rows = "set_aside"
    collection.save()
    submission = send(
        collection,
        homes[2],
        good(),
        good(cqc_location_id="1-123456789", postcode="nowhere"),
    )
    run_queued_tasks()
    submission.refresh_from_db()
    assert submission.state == "accepted"
    assert (submission.rows, submission.valid_rows) == (2, 1)
    assert any("set aside" in c for c in submission.automatic_caveats)


def test_an_unreadable_file_is_rejected_in_plain_words(collection, homes) -> None:
    submission = actions.receive(
        by=member_actor(homes[0], Role.DATA_OFFICER),
        collection=collection,
        period=DAY,
        filename="status.xlsx",
        source=b"PK\x03\x04 this is not really a workbook",
        today=TODAY,
    )
    run_queued_tasks()
    submission.refresh_from_db()
    assert submission.state == "rejected"
    assert submission.reason  # the reader's own plain-English message


def test_who_may_send_and_when(collection, homes, gmca) -> None:
    outsider = OrganisationFactory(name="Elsewhere Care Home", sector=Sector.CARE_PROVIDER)
    with pytest.raises(NotPermitted, match="not expected to send returns"):
        send(collection, outsider, good())
    with pytest.raises(NotPermitted, match="roles"):
        actions.receive(
            by=member_actor(homes[0], Role.VIEWER),
            collection=collection,
            period=DAY,
            filename="a.csv",
            source=care_home_csv(good()),
            today=TODAY,
        )
    with pytest.raises(Refused, match="has not started yet"):
        send(collection, homes[0], good(), period=TODAY + dt.timedelta(days=1))
    with pytest.raises(Refused, match="starts with"):
        send(collection, homes[0], good(), period=DAY - dt.timedelta(days=30))
    refused = AuditEvent.objects.filter(action="submission.received", outcome="refused")
    assert refused.count() == 4
    assert not Submission.objects.exists()


def test_personal_data_needs_an_agreement_flow(gmca, homes) -> None:
    framework_of(gmca, *homes)
    from accord.agreements.models import Framework

    runner = member_actor(gmca, Role.ANALYST)
    shielded = actions.create_collection(
        by=runner,
        slug="shielded-gm",
        name="Shielded patients",
        standard=get_standard("shielded-patient-list", database=False),
        schedule="weekly",
        starts_on=DAY,
        framework=Framework.objects.get(),
    )
    with pytest.raises(Refused, match=r"personal data.*only under an active agreement"):
        actions.add_contributor(by=runner, collection=shielded, organisation=homes[0])
    assert not shielded.contributors.exists()


def test_period_status_shows_who_is_late(collection, homes) -> None:
    send(collection, homes[0], good())
    run_queued_tasks()
    after_deadline = queries.deadline_of(collection, DAY) + dt.timedelta(hours=1)
    status = queries.period_status(collection, DAY, after_deadline)
    by_home = {slot.organisation.name: slot.status for slot in status.slots}
    assert by_home == {
        "Oakleigh Care Home": "accepted",
        "Kingfisher Care Home": "late",
        "Riverside Care Home": "late",
    }
    assert status.received == 1
    assert round(status.completeness, 2) == 0.33


def test_only_the_owner_adds_contributors(collection, homes) -> None:
    with pytest.raises(NotPermitted, match="which runs this collection"):
        actions.add_contributor(
            by=member_actor(homes[0], Role.DATA_OFFICER),
            collection=collection,
            organisation=homes[1],
        )
    with pytest.raises(Refused, match="already contributes"):
        actions.add_contributor(
            by=member_actor(collection.owner, Role.ANALYST),
            collection=collection,
            organisation=homes[1],
        )


def test_an_owner_sends_its_own_personal_data_to_its_own_collection_with_no_agreement(
    gmca,
) -> None:
    """A controller needs no agreement with itself; no framework grant is written for it."""
    from accord.access.models import Grant

    runner = member_actor(gmca, Role.ANALYST)
    own = actions.create_collection(
        by=runner,
        slug="hb-own",
        name="Housing benefit, our own",
        standard=get_standard("housing-benefit-claims"),
        schedule="monthly",
        starts_on=DAY.replace(day=1),
        deadline_days=10,
        deadline_time=dt.time(17, 0),
    )
    contributor = actions.add_contributor(by=runner, collection=own, organisation=gmca)
    assert contributor.agreement is None
    assert not Grant.objects.exists()
    event = AuditEvent.objects.filter(action="collection.contributor_added").latest("seq")
    assert event.details["basis"] == "its own data"
    # Anyone else still needs an agreement for personal data.
    other = OrganisationFactory(name="Somewhere Else Council")
    with pytest.raises(Refused, match="only under an active agreement"):
        actions.add_contributor(by=runner, collection=own, organisation=other)


def test_a_check_that_cannot_finish_rejects_the_return_saying_the_fault_is_ours(
    collection, homes
) -> None:
    from accord.submissions.processing import CHECK_CRASHED
    from accord.vault import actions as vault

    submission = send(collection, homes[0], good())
    # The upload is destroyed before the check runs (as retention or erasure could do).
    vault.crypto_shred(by=Actor.system(), obj=submission.upload, reason="Test: gone early")
    run_queued_tasks()
    submission.refresh_from_db()
    assert submission.state == "rejected"
    assert submission.reason == CHECK_CRASHED
    assert TaskProgress.objects.get(pk=submission.progress_id).state == "done"
    assert not CompiledDataset.objects.exists()


def test_an_ended_agreement_stops_returns_it_covered(gmca, homes) -> None:
    from accord.agreements import actions as agreement_actions
    from tests.factories import active_care_home_agreement

    agreement = active_care_home_agreement(homes[0], gmca)
    runner = member_actor(gmca, Role.ANALYST)
    covered = actions.create_collection(
        by=runner,
        slug="care-homes-by-agreement",
        name="Care homes under agreement",
        standard=CARE_HOME,
        schedule="daily",
        starts_on=DAY,
    )
    contributor = actions.add_contributor(by=runner, collection=covered, organisation=homes[0])
    assert contributor.agreement == agreement
    send(covered, homes[0], good())  # covered while the agreement is in force
    agreement_actions.terminate(
        by=member_actor(gmca, Role.DPO), agreement=agreement, reason="Service ended."
    )
    with pytest.raises(Refused, match="has no agreement"):
        send(covered, homes[0], good())
    assert Submission.objects.filter(collection=covered).count() == 1
