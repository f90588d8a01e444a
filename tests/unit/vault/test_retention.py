"""Retention: deadlines from durations and dates, derived objects, legal holds, the retention
run and its deletion certificates, and `accord retention run`."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accord.access.enums import ResourceKind
from accord.audit.actor import Actor
from accord.audit.enums import Outcome
from accord.audit.exceptions import Refused
from accord.audit.labels import ACTION_LABELS
from accord.audit.models import AuditEvent
from accord.cli.main import main
from accord.vault import actions, keys, queries, retention
from accord.vault.deadlines import parse_duration
from accord.vault.exceptions import ObjectDeleted
from accord.vault.models import VaultObject, VaultObjectSource

from .conftest import blob_path, permit, read

pytestmark = pytest.mark.django_db

LATER = timedelta(days=800)  # past every default (P1Y) deadline


def keep(actor, organisation, data=b"rows", *, name="Free school meals, March", **kwargs):
    return actions.store(
        by=actor,
        organisation=organisation,
        kind=ResourceKind.SUBMISSION,
        name=name,
        source=[data],
        chunk_size=64,
        **kwargs,
    )


def later(days: int = 0) -> datetime:
    return timezone.now() + timedelta(days=days)


# Deadlines -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P1Y", datetime(2027, 1, 31, 9, 0)),
        ("P6M", datetime(2026, 7, 31, 9, 0)),
        ("P1M", datetime(2026, 2, 28, 9, 0)),  # calendar months: no 31 February
        ("P2W", datetime(2026, 2, 14, 9, 0)),
        ("P30D", datetime(2026, 3, 2, 9, 0)),
        ("P1Y6M", datetime(2027, 7, 31, 9, 0)),
    ],
)
def test_durations_are_calendar_durations(text, expected) -> None:
    assert datetime(2026, 1, 31, 9, 0) + parse_duration(text) == expected


def test_the_default_is_the_standards_one_year(member) -> None:
    organisation, actor = member
    obj = keep(actor, organisation)
    assert obj.retention_rule == "P1Y: standard default"
    assert obj.retention_deadline is not None
    assert obj.retention_deadline.date() == (obj.created_at + parse_duration("P1Y")).date()
    event = AuditEvent.objects.get(action="vault.object.stored")
    assert event.details["retention_rule"] == "P1Y: standard default"
    assert event.details["retention_deadline"] == obj.retention_deadline.isoformat()


def test_a_duration_sets_the_deadline_from_when_it_was_stored(member) -> None:
    organisation, actor = member
    obj = keep(actor, organisation, retention="P30D", retention_basis="agreement 7, clause 4")
    obj.refresh_from_db()
    assert obj.retention_deadline == obj.created_at + timedelta(days=30)
    assert obj.retention_rule == "P30D: agreement 7, clause 4"


@pytest.mark.parametrize("end", [date(2031, 3, 31), "2031-03-31"])
def test_an_end_date_sets_the_deadline_to_the_start_of_that_day(member, end) -> None:
    organisation, actor = member
    obj = keep(actor, organisation, retention=end, retention_basis="until the review")
    obj.refresh_from_db()
    assert obj.retention_deadline is not None
    local = timezone.localtime(obj.retention_deadline)
    assert (local.date(), local.hour, local.minute) == (date(2031, 3, 31), 0, 0)
    assert obj.retention_rule == "until 2031-03-31: until the review"


@pytest.mark.parametrize(
    ("retention", "words"),
    [
        ("P", "not a retention period"),
        ("1Y", "neither a retention period"),
        ("P1X", "not a retention period"),
        ("P-1D", "not a retention period"),
        ("P1.5Y", "not a retention period"),
        ("PT12H", "time part"),
        ("P0D", "zero"),
        ("P999Y", "over 200 years"),
        ("2020-01-01", "not after the day"),
        (date(2000, 1, 1), "not after the day"),
        (datetime(2031, 1, 1, tzinfo=timezone.get_current_timezone()), "as a date"),
        (365, "not int"),
    ],
)
def test_bad_retention_is_a_clear_error_and_stores_nothing(
    member, vault_dirs, retention, words
) -> None:
    organisation, actor = member
    with pytest.raises(ValidationError) as raised:
        keep(actor, organisation, retention=retention)
    assert words in " ".join(raised.value.messages)
    assert not VaultObject.objects.exists()
    assert not AuditEvent.objects.filter(action="vault.object.stored").exists()
    blobs, keystore = vault_dirs
    assert not [path for path in blobs.rglob("*") if path.is_file()]
    assert not [path for path in keystore.rglob("*") if path.is_file()]


# Derived objects -----------------------------------------------------------------------------


def test_a_derived_object_records_its_sources_and_takes_the_earliest_deadline(member) -> None:
    organisation, actor = member
    short = keep(actor, organisation, name="Short", retention="P30D", retention_basis="clause 2")
    long = keep(actor, organisation, name="Long", retention="P5Y")
    derived = keep(
        actor, organisation, name="Compiled", retention="P1Y", sources=[short, long, short]
    )
    derived.refresh_from_db()
    assert derived.retention_deadline == short.retention_deadline
    assert "P1Y: standard default" not in derived.retention_rule  # a basis was not given
    assert derived.retention_rule.startswith("P1Y; brought forward to ")
    assert f"“Short” ({short.id}) under P30D: clause 2" in derived.retention_rule
    assert set(derived.sources.all()) == {short, long}
    assert VaultObjectSource.objects.filter(derived=derived).count() == 2
    assert set(short.derived_objects.all()) == {derived}
    event = AuditEvent.objects.filter(action="vault.object.stored").last()
    assert event is not None
    assert sorted(event.details["sources"]) == sorted([str(short.id), str(long.id)])


def test_a_derived_object_keeps_its_own_deadline_when_it_is_the_earliest(member) -> None:
    organisation, actor = member
    source = keep(actor, organisation, retention="P5Y")
    derived = keep(actor, organisation, retention="P30D", retention_basis="b", sources=[source])
    assert derived.retention_rule == "P30D: b"
    assert derived.retention_deadline == derived.created_at + timedelta(days=30)


def test_nothing_is_derived_from_a_deleted_object(member) -> None:
    organisation, actor = member
    source = keep(actor, organisation)
    actions.crypto_shred(by=actor, obj=source, reason="Asked to")
    with pytest.raises(ValidationError, match="has been deleted"):
        keep(actor, organisation, name="Compiled", sources=[source])
    assert VaultObject.objects.count() == 1


# Legal holds and the run ----------------------------------------------------------------------


def test_run_deletes_only_expired_unheld_objects_and_lists_held_ones(member) -> None:
    organisation, actor = member
    soon = keep(actor, organisation, name="Soon", retention="P30D")
    held = keep(actor, organisation, name="Held", retention="P30D")
    not_yet = keep(actor, organisation, name="Not yet", retention="P5Y")
    actions.place_legal_hold(by=actor, obj=held, reason="Tribunal case 2026/14")

    report = retention.run(now=later(31))

    assert [item.object_id for item in report.deleted] == [str(soon.id)]
    assert [(item.object_id, item.hold_reason) for item in report.held] == [
        (str(held.id), "Tribunal case 2026/14")
    ]
    assert report.failed == []
    assert report.ok
    for obj in (soon, held, not_yet):
        obj.refresh_from_db()
    assert soon.is_deleted
    assert not keys.key_path(soon.id).exists()
    assert not blob_path(soon).exists()
    assert read(actor, held) == b"rows"
    assert read(actor, not_yet) == b"rows"


def test_holds_are_audited_and_need_a_reason(member) -> None:
    organisation, actor = member
    obj = keep(actor, organisation)
    with pytest.raises(ValidationError, match="Say why"):
        actions.place_legal_hold(by=actor, obj=obj, reason="  ")
    actions.place_legal_hold(by=actor, obj=obj, reason="Tribunal case")
    with pytest.raises(Refused, match="already under legal hold"):
        actions.place_legal_hold(by=actor, obj=obj, reason="Again")
    with pytest.raises(Refused, match="under legal hold"):
        actions.crypto_shred(by=actor, obj=obj, reason="By hand")
    with pytest.raises(ValidationError, match="Say why"):
        actions.release_legal_hold(by=actor, obj=obj, reason="")
    actions.release_legal_hold(by=actor, obj=obj, reason="Case closed")
    with pytest.raises(Refused, match="not under legal hold"):
        actions.release_legal_hold(by=actor, obj=obj, reason="Again")

    placed = AuditEvent.objects.get(
        action="vault.object.legal_hold_placed", outcome=Outcome.SUCCESS
    )
    assert placed.reason == "Tribunal case"
    assert placed.details["object_id"] == str(obj.id)
    released = AuditEvent.objects.get(
        action="vault.object.legal_hold_released", outcome=Outcome.SUCCESS
    )
    assert released.reason == "Case closed"
    assert released.details["hold_reason"] == "Tribunal case"
    assert "vault.object.legal_hold_placed" in ACTION_LABELS
    assert "vault.object.legal_hold_released" in ACTION_LABELS
    obj.refresh_from_db()
    assert not obj.is_held
    assert not obj.is_deleted


def test_release_then_run_deletes(member) -> None:
    organisation, actor = member
    obj = keep(actor, organisation, retention="P30D")
    actions.place_legal_hold(by=actor, obj=obj, reason="Tribunal case")
    assert retention.run(now=later(31)).deleted == []
    actions.release_legal_hold(by=actor, obj=obj, reason="Case closed")
    report = retention.run(now=later(31))
    assert [item.object_id for item in report.deleted] == [str(obj.id)]
    assert report.held == []


def test_a_dry_run_changes_and_records_nothing(member) -> None:
    organisation, actor = member
    obj = keep(actor, organisation, retention="P30D")
    events = AuditEvent.objects.count()
    report = retention.run(now=later(31), dry_run=True)
    assert report.dry_run
    assert [item.object_id for item in report.deleted] == [str(obj.id)]
    obj.refresh_from_db()
    assert not obj.is_deleted
    assert keys.key_path(obj.id).exists()
    assert AuditEvent.objects.count() == events
    assert read(actor, obj) == b"rows"


def test_the_certificate_says_what_when_and_under_which_rule(member) -> None:
    organisation, actor = member
    obj = keep(actor, organisation, b"x" * 100, retention="P30D", retention_basis="clause 4")
    retention.run(now=later(31))
    obj.refresh_from_db()
    event = AuditEvent.objects.get(action="vault.object.shredded")
    assert event.outcome == Outcome.SUCCESS
    assert event.actor == Actor.task("retention").ref
    assert event.target == f"submission:{obj.id}"
    assert event.subject_organisation == str(organisation.pk)
    details = event.details
    assert details["object_id"] == str(obj.id)
    assert details["name"] == obj.name
    assert details["kind"] == "submission"
    assert details["organisation_id"] == str(organisation.pk)
    assert details["organisation_name"] == organisation.name
    assert details["sha256"] == obj.sha256
    assert details["size"] == 100
    assert obj.deleted_at is not None
    assert obj.retention_deadline is not None
    assert details["deleted_at"] == obj.deleted_at.isoformat()
    assert details["deleted_by"] == "task:retention"
    assert details["retention_rule"] == "P30D: clause 4"
    assert details["retention_deadline"] == obj.retention_deadline.isoformat()
    assert details["key_destroyed"] is True
    assert details["blob_deleted"] is True
    assert "P30D: clause 4" in event.reason


def test_reading_an_object_deleted_by_retention_names_the_rule(member) -> None:
    organisation, actor = member
    obj = keep(actor, organisation, retention="P30D", retention_basis="clause 4")
    retention.run(now=later(31))
    with pytest.raises(ObjectDeleted) as raised:
        queries.open_object(obj.id, by=actor, decision=permit(actor, obj))
    message = str(raised.value)
    assert "was deleted on" in message
    assert "retention deadline" in message
    assert "“P30D: clause 4”" in message


def test_one_failing_object_does_not_stop_the_others(member) -> None:
    organisation, actor = member
    first = keep(actor, organisation, name="First", retention="P30D")
    broken = keep(actor, organisation, name="Broken", retention="P31D")
    last = keep(actor, organisation, name="Last", retention="P32D")
    # A directory where the blob should be: deleting it fails for real.
    path = blob_path(broken)
    path.unlink()
    path.mkdir()
    (path / "stuck").write_bytes(b"x")
    try:
        report = retention.run(now=later(40))
    finally:
        shutil.rmtree(path)

    assert [item.name for item in report.deleted] == ["First", "Last"]
    assert [item.name for item, _ in report.failed] == ["Broken"]
    assert "Error" in report.failed[0][1]
    assert not report.ok
    for obj in (first, broken, last):
        obj.refresh_from_db()
    assert first.is_deleted
    assert last.is_deleted
    assert not broken.is_deleted
    assert AuditEvent.objects.filter(action="vault.object.shredded").count() == 2


def test_a_hold_placed_before_the_shred_is_respected(member) -> None:
    organisation, actor = member
    obj = keep(actor, organisation, retention="P30D")
    due = retention.expired(later(31))
    actions.place_legal_hold(by=actor, obj=obj, reason="Late hold")
    report = retention.RetentionReport(now=later(31), dry_run=False)
    retention._shred(Actor.task("retention"), due[0], retention.RetentionItem.of(due[0]), report)
    assert [item.hold_reason for item in report.held] == ["Late hold"]
    assert report.deleted == []
    assert report.failed == []
    obj.refresh_from_db()
    assert not obj.is_deleted


# The command ---------------------------------------------------------------------------------


def _age(*objects: VaultObject, days: int = 40) -> None:
    """Move objects' deadlines into the past, as if they had been stored long ago."""
    for obj in objects:
        VaultObject.objects.filter(pk=obj.pk).update(
            retention_deadline=timezone.now() - timedelta(days=days)
        )


def test_the_command_dry_run_then_run(member, capsys) -> None:
    organisation, actor = member
    gone = keep(actor, organisation, name="Expired return")
    held = keep(actor, organisation, name="Held return")
    kept = keep(actor, organisation, name="Current return")
    _age(gone, held)
    actions.place_legal_hold(by=actor, obj=held, reason="Tribunal case 2026/14")

    assert main(["retention", "run", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Dry run: nothing was deleted. 1 object(s) would be deleted." in out
    assert "“Expired return”" in out
    assert "Held return" in out
    assert "Tribunal case 2026/14" in out
    assert "Current return" not in out
    assert not VaultObject.objects.filter(deleted_at__isnull=False).exists()

    assert main(["retention", "run"]) == 0
    out = capsys.readouterr().out
    assert "Deleted 1 object(s) past their retention deadline." in out
    assert "“Expired return”" in out
    assert "P1Y: standard default" in out
    assert "Kept 1 expired object(s) under legal hold" in out
    gone.refresh_from_db()
    kept.refresh_from_db()
    assert gone.is_deleted
    assert not kept.is_deleted

    assert main(["retention", "run"]) == 0
    assert "Deleted 0 object(s)" in capsys.readouterr().out


def test_the_command_exits_1_when_an_object_fails(member, capsys) -> None:
    organisation, actor = member
    broken = keep(actor, organisation, name="Broken")
    fine = keep(actor, organisation, name="Fine")
    _age(broken, fine)
    path = blob_path(broken)
    path.unlink()
    path.mkdir()
    (path / "stuck").write_bytes(b"x")
    try:
        assert main(["retention", "run"]) == 1
    finally:
        shutil.rmtree(path)
    out = capsys.readouterr().out
    assert "Deleted 1 object(s)" in out
    assert "Could not delete 1 object(s):" in out
    assert "“Broken”" in out
