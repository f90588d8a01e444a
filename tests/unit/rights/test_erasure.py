"""Erasure of one person: rewritten out of every object their controllers hold under new keys,
the old objects shredded, files that cannot be rewritten destroyed, derived results swept, every
recipient notified and tracked, a certificate kept — and afterwards no trace of the person's
identifiers is readable anywhere in the vault."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import polars as pl
import pytest

from accord.access.decisions import decide
from accord.access.enums import Action
from accord.audit.actor import Actor
from accord.audit.exceptions import NotPermitted, Refused
from accord.audit.models import AuditEvent
from accord.linkage.models import LinkageJob
from accord.notifications.models import Notification
from accord.organisations.enums import Role
from accord.rights.erasure import erase_person
from accord.rights.models import SubjectChange
from accord.rights.search import PersonQuery
from accord.submissions.models import CompiledDataset
from accord.vault.models import VaultObject
from accord.vault.queries import open_object, resource_for
from tests.factories import member_actor
from tests.tasks import run_queued_tasks
from tests.unit.linkage.world import ANN, BILL, LinkWorld
from tests.unit.rights.world import build_rights_world

pytestmark = pytest.mark.django_db

ANN_TRACES = (ANN, "Archer", "1941-02-03", "990000000001", "1 Acacia Avenue")


@pytest.fixture
def world() -> LinkWorld:
    return build_rights_world()


def _plaintext(obj: VaultObject) -> str:
    """Everything readable in ``obj``, as text: Parquet values, zipped files, or the bytes."""
    reader = Actor.task("retention", organisation_id=str(obj.organisation_id))
    decision = decide(
        actor=reader, action=Action.VIEW, resource=resource_for(obj), purpose="Prove an erasure"
    )
    data = b"".join(open_object(obj.pk, by=reader, decision=decision, action=Action.VIEW))
    if data[:4] == b"PAR1":
        return str(pl.read_parquet(io.BytesIO(data)).rows())
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return " ".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    return data.decode("utf-8", "replace")


def _traces(secrets: tuple[str, ...]) -> list[tuple[str, str]]:
    return [
        (obj.name, secret)
        for obj in VaultObject.objects.filter(deleted_at__isnull=True)
        for secret in secrets
        if secret in _plaintext(obj)
    ]


def test_erasure_everywhere_leaves_no_readable_trace(world) -> None:
    assert _traces((ANN,))  # the person is there to begin with
    kent = erase_person(
        by=member_actor(world.county, Role.DPO),
        query=PersonQuery(nhs_number=ANN),
        reason="Article 17(1)(a)",
    )
    icb = erase_person(
        by=member_actor(world.icb, Role.DPO),
        query=PersonQuery(nhs_number=ANN),
        reason="Article 17(1)(a)",
    )
    maidstone = erase_person(
        by=member_actor(world.district, Role.DPO),
        query=PersonQuery(uprn="990000000001"),
        reason="Article 17(1)(a)",
    )
    for erasure in (kent, icb, maidstone):
        assert erasure.rows >= 1
        assert erasure.rewritten
    assert _traces(ANN_TRACES) == []
    # Bill, who was not erased, is still there.
    assert _traces((BILL,))


def test_the_certificate_says_what_was_done_and_notices_are_tracked(world) -> None:
    erasure = erase_person(
        by=member_actor(world.county, Role.DPO),
        query=PersonQuery(nhs_number=ANN),
        reason="Article 17(1)(d)",
    )
    assert erasure.method == "NHS number"
    assert {r["what"].split(" ")[0] for r in erasure.rewritten} >= {"Accepted", "Compiled"}
    for item in erasure.rewritten:
        old = VaultObject.objects.get(pk=item["old"])
        assert old.deleted_at is not None
        assert VaultObject.objects.get(pk=item["new"]).deleted_at is None
    assert any(d["what"].startswith("Extract file") for d in erasure.destroyed)
    assert any(d["what"].startswith("Upload") for d in erasure.destroyed)
    compiled = CompiledDataset.objects.get(collection=world.social_care)
    assert str(compiled.data_id) in {r["new"] for r in erasure.rewritten}
    notices = list(erasure.notices.all())
    assert {(n.recipient_id, n.how) for n in notices} == {
        (world.district.pk, "Extract"),
        (world.district.pk, "Linkage"),
    }
    assert all(n.confirmed_at is None for n in notices)
    assert (
        Notification.objects.filter(
            organisation=world.district, subject__startswith="Erase one person"
        ).count()
        == 2
    )
    event = AuditEvent.objects.get(action="rights.person_erased")
    assert event.details["rows"] == erasure.rows
    assert ANN not in str(event.details)
    # Maidstone's linked results were made from the old data: destroyed, to be run again.
    job = LinkageJob.objects.get()
    assert job.linked is not None
    job.linked.refresh_from_db()
    assert job.linked.deleted_at is not None


def test_nothing_found_nothing_changed(world) -> None:
    before = VaultObject.objects.filter(deleted_at__isnull=True).count()
    with pytest.raises(Refused, match="Nobody matching"):
        erase_person(
            by=member_actor(world.stranger, Role.DPO),
            query=PersonQuery(nhs_number=ANN),
            reason="Article 17",
        )
    assert VaultObject.objects.filter(deleted_at__isnull=True).count() == before
    assert not SubjectChange.objects.exists()


def test_a_reason_and_a_data_protection_role_are_needed(world) -> None:
    with pytest.raises(Refused, match="Say why"):
        erase_person(
            by=member_actor(world.county, Role.DPO), query=PersonQuery(nhs_number=ANN), reason=" "
        )
    with pytest.raises(NotPermitted):
        erase_person(
            by=member_actor(world.county, Role.ANALYST),
            query=PersonQuery(nhs_number=ANN),
            reason="Article 17",
        )


def test_a_correction_is_made_everywhere_and_recipients_are_told(world) -> None:
    from accord.rights.erasure import correct_person
    from accord.rights.models import ChangeKind

    change = correct_person(
        by=member_actor(world.county, Role.DPO),
        query=PersonQuery(nhs_number=ANN),
        values={"date_of_birth": "1941-02-04"},
        reason="Her birth certificate says the 4th",
    )
    assert change.kind == ChangeKind.RECTIFICATION
    assert change.fields == ["date_of_birth"]
    assert change.rows >= 2  # accepted rows and the compiled collection
    compiled = CompiledDataset.objects.get(collection=world.social_care)
    text = _plaintext(compiled.data)
    assert "1941, 2, 4" in text or "1941-02-04" in text
    assert "1941, 2, 3" not in text
    assert "1938, 7, 19" in text  # Bill's untouched
    assert {n.how for n in change.notices.all()} == {"Extract", "Linkage"}
    assert (
        Notification.objects.filter(
            organisation=world.district, subject__startswith="Correct one person"
        ).count()
        == 2
    )
    assert AuditEvent.objects.filter(action="rights.person_corrected").exists()


def test_a_value_the_standard_cannot_hold_is_refused(world) -> None:
    from accord.rights.erasure import correct_person

    with pytest.raises(Refused, match="not a valid value"):
        correct_person(
            by=member_actor(world.county, Role.DPO),
            query=PersonQuery(nhs_number=ANN),
            values={"date_of_birth": "the fourth"},
            reason="Birth certificate",
        )
    assert not SubjectChange.objects.exists()


def test_linked_results_are_made_again_from_the_corrected_data(world) -> None:
    from accord.rights.erasure import correct_person

    job = LinkageJob.objects.get()
    first = job.linked
    assert first is not None
    assert job.runs == 1
    correct_person(
        by=member_actor(world.county, Role.DPO),
        query=PersonQuery(nhs_number=ANN),
        values={"date_of_birth": "1941-02-04"},
        reason="Her birth certificate says the 4th",
    )
    run_queued_tasks()
    job.refresh_from_db()
    first.refresh_from_db()
    assert first.deleted_at is not None  # made from the old data: destroyed
    assert job.runs == 2  # and linked again, on the corrected data
    assert job.linked is not None
    assert job.linked.deleted_at is None
    text = _plaintext(job.linked)
    assert "1941, 2, 4" in text or "1941-02-04" in text
    queued = AuditEvent.objects.filter(action="linkage.run_queued").latest("seq")
    assert "replaced by corrected data" in queued.reason


def test_a_correction_reaches_the_field_another_standard_names_differently() -> None:
    from accord.rights.erasure import _corrected, columns_meaning

    # Free school meals keeps the parent's date of birth as parent_dob, and the child's apart.
    fsm = pl.DataFrame(
        {
            "parent_dob": [dt.date(1990, 5, 4), dt.date(1980, 1, 1)],
            "child_dob": [dt.date(2010, 12, 26), dt.date(2012, 3, 3)],
            "home_postcode": ["ME16 5NJ", "ME14 1AA"],
        }
    )
    assert columns_meaning("date_of_birth", "fsm-eligibility", fsm.columns) == ["parent_dob"]
    assert columns_meaning("address", "shielded-patient-list", ["address_line_1"]) == []
    corrected, rows = _corrected({"date_of_birth": "1990-04-05"})(
        fsm, pl.col("home_postcode") == "ME16 5NJ", "fsm-eligibility"
    )
    assert rows == 1
    assert corrected["parent_dob"].to_list() == [dt.date(1990, 4, 5), dt.date(1980, 1, 1)]
    assert corrected["child_dob"].to_list() == fsm["child_dob"].to_list()
    # A dataset without the field is left alone, and says it changed nothing.
    same, none = _corrected({"nhs_number": "9434765919"})(fsm, pl.lit(True), "fsm-eligibility")
    assert none == 0
    assert same is fsm


def test_a_correction_of_a_field_no_holding_has_is_refused(world) -> None:
    from accord.rights.erasure import correct_person

    with pytest.raises(Refused, match="has the field shoe_size"):
        correct_person(
            by=member_actor(world.county, Role.DPO),
            query=PersonQuery(nhs_number=ANN),
            values={"shoe_size": "5"},
            reason="She told us",
        )
    assert not SubjectChange.objects.exists()
