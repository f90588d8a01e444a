"""A correction that arrives as a new return: the records it changes are found by comparing the
old accepted rows with the new, and every extract that carried one of them is destroyed in
Accord and its recipient told to update its copy, with a tracked notice."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from accord.access.models import Extract
from accord.audit.models import AuditEvent
from accord.notifications.models import Notification
from accord.organisations.enums import Role
from accord.rights.actions import find_person
from accord.rights.models import ChangeKind, SubjectChange
from accord.rights.replaced import records_changed
from accord.rights.search import PersonQuery
from accord.submissions import actions
from accord.submissions.models import Submission
from tests.factories import member_actor
from tests.tasks import run_queued_tasks
from tests.unit.linkage.world import ANN, BILL, TODAY, social_care

from .test_erasure import world  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db

PERIOD = TODAY.replace(day=1) - dt.timedelta(days=31)  # the period the world's return is for


def test_records_changed_finds_corrected_and_removed_rows() -> None:
    old = pl.DataFrame(
        {"__row__": [1, 2, 3], "id": ["a", "b", "c"], "status": ["open", "open", "open"]}
    )
    new = pl.DataFrame({"__row__": [1, 2], "id": ["a", "b"], "status": ["open", "closed"]})
    changed, fields = records_changed(old, new)
    assert changed["id"].to_list() == ["b", "c"]  # b corrected, c removed
    assert fields == ["status"]
    # The same rows in another order, or renumbered, change nothing.
    same, none = records_changed(old, old.reverse().with_columns(pl.col("__row__") + 10))
    assert same.is_empty()
    assert none == []


def test_records_changed_counts_nulls_as_equal() -> None:
    old = pl.DataFrame({"id": ["a"], "end": [None]}, schema={"id": pl.String, "end": pl.Date})
    assert records_changed(old, old.clone())[0].is_empty()


def _resend(world, frame: pl.DataFrame) -> Submission:  # noqa: F811
    submission = actions.receive(
        by=world.county_analyst(),
        collection=world.social_care,
        period=PERIOD,
        filename="social-care-corrected.csv",
        source=frame.write_csv().encode(),
    )
    run_queued_tasks()
    submission.refresh_from_db()
    assert submission.state == "accepted", submission.message
    return submission


def test_a_new_return_correcting_a_sent_record_tells_the_recipient(world) -> None:  # noqa: F811
    extract = Extract.objects.get()
    assert extract.data is not None
    frame = social_care().with_columns(
        pl.when(pl.col("nhs_number") == BILL)
        .then(pl.lit("closed"))
        .otherwise(pl.col("service_status"))
        .alias("service_status")
    )
    _resend(world, frame)

    change = SubjectChange.objects.get(kind=ChangeKind.REPLACEMENT)
    assert change.organisation == world.county
    assert change.rows == 1
    assert change.fields == ["service_status"]
    assert "social-care-corrected.csv" in change.reason
    notice = change.notices.get()
    assert notice.recipient == world.district
    assert notice.how == "Extract"
    assert notice.confirmed_at is None
    extract.data.refresh_from_db()
    assert extract.data.deleted_at is not None  # the out-of-date file is gone from Accord
    assert [d["id"] for d in change.destroyed] == [str(extract.data_id)]
    assert Notification.objects.filter(
        organisation=world.district, subject__startswith="Update 1 record"
    ).exists()
    event = AuditEvent.objects.get(action="rights.replacement_notified")
    assert event.details["records"] == 1
    assert BILL not in str(event.details)


def test_a_change_the_extract_never_carried_tells_nobody(world) -> None:  # noqa: F811
    # Eve lives in Canterbury: Maidstone's extract was limited to Maidstone's residents.
    frame = social_care().with_columns(
        pl.when(pl.col("person_id") == "K4")
        .then(pl.lit("closed"))
        .otherwise(pl.col("service_status"))
        .alias("service_status")
    )
    _resend(world, frame)
    assert not SubjectChange.objects.exists()
    extract = Extract.objects.get()
    assert extract.data is not None
    extract.data.refresh_from_db()
    assert extract.data.deleted_at is None


def test_the_same_return_again_tells_nobody(world) -> None:  # noqa: F811
    submission = _resend(world, social_care())
    assert Submission.objects.filter(superseded_by=submission).exists()
    assert not SubjectChange.objects.exists()


def test_subject_access_still_finds_an_extract_of_a_replaced_compilation(world) -> None:  # noqa: F811
    extract = Extract.objects.get()
    _resend(world, social_care())  # compiled again: the extract's source is destroyed
    extract.source.refresh_from_db()
    assert extract.source.deleted_at is not None
    report = find_person(by=member_actor(world.county, Role.DPO), query=PersonQuery(nhs_number=ANN))
    assert [(r.how, r.extract_id) for r in report.recipients if r.how == "Extract"] == [
        ("Extract", str(extract.pk))
    ]


def test_a_new_return_has_linked_results_made_again(world) -> None:  # noqa: F811
    from accord.linkage.models import LinkageJob

    job = LinkageJob.objects.get()
    first = job.linked
    assert first is not None
    _resend(world, social_care().with_columns(pl.lit("closed").alias("service_status")))
    job.refresh_from_db()
    first.refresh_from_db()
    assert first.deleted_at is not None
    assert job.runs == 2
    assert job.linked is not None
    assert job.linked.deleted_at is None
