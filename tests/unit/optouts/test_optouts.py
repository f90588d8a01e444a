"""Opt-outs (issue 10): uploading lists, replacing them, and the filter on extracts, outputs
and linkage, on the real vault, tasks and decision point."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from accord.access import extracts
from accord.access.decisions import decide
from accord.access.enums import Action
from accord.access.models import ExtractState, Grant
from accord.audit.actor import Actor
from accord.audit.exceptions import NotPermitted
from accord.audit.models import AuditEvent
from accord.demo.vulnerability_setup import PURPOSE
from accord.linkage import actions as linkage_actions
from accord.linkage.models import JobState
from accord.optouts import actions, queries
from accord.optouts.enums import ListKind
from accord.optouts.models import OptOutList
from accord.organisations.enums import Role
from accord.submissions.models import Contributor
from accord.vault.models import VaultObject
from accord.vault.queries import resource_for
from tests.factories import OrganisationFactory, member_actor
from tests.tasks import run_queued_tasks
from tests.unit.linkage.world import ANN, BILL, DAN, nhs

from .world import NOWHERE, OPERATOR, OptOutWorld, build_optout_world, write_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tmp_path: Path) -> OptOutWorld:
    return build_optout_world(tmp_path)


def _list(owner=None) -> OptOutList:
    return actions.create_list(
        by=OPERATOR,
        name="Objections",
        kind=ListKind.LOCAL,
        owner=owner or OrganisationFactory(name="Somewhere Council"),
    )


# --- uploads -----------------------------------------------------------------------------------


def test_a_list_is_stored_in_the_vault_normalised_and_counted(tmp_path: Path) -> None:
    opt_out_list = _list()
    path = tmp_path / "list.csv"
    path.write_text(f"NHS No.\n{ANN[:3]} {ANN[3:6]} {ANN[6:]}\n{BILL}\n{BILL}\n\n{DAN}\n")
    loaded = actions.load_list(by=OPERATOR, opt_out_list=opt_out_list, source=path)
    assert loaded.count == 3
    assert loaded.version == 1
    assert loaded.data is not None
    assert loaded.data.kind == "opt_out_list"
    by = Actor.task("opt_outs")
    numbers = queries.opted_out_numbers([str(loaded.owner_id)])
    assert sorted(numbers["nhs_number"].to_list()) == sorted([ANN, BILL, DAN])
    # No NHS number is in the database's audit log.
    for event in AuditEvent.objects.filter(action="optouts.list_loaded"):
        assert ANN not in str(event.details)
        assert BILL not in str(event.details)
    assert by.task_name == "opt_outs"


def test_rows_that_are_not_nhs_numbers_are_named_and_nothing_changes(tmp_path: Path) -> None:
    opt_out_list = _list()
    wrong_check = ANN[:9] + str((int(ANN[9]) + 1) % 10)
    path = write_list(tmp_path, ANN, "12345", wrong_check, "9.99E+09")
    with pytest.raises(actions.InvalidList) as refused:
        actions.load_list(by=OPERATOR, opt_out_list=opt_out_list, source=path)
    assert refused.value.count == 3
    problems = refused.value.problems
    assert problems[0].startswith("Row 3: “12345” is not an NHS number: an NHS number has 10")
    assert problems[1].startswith(f"Row 4: “{wrong_check}” fails the NHS number check")
    assert problems[2].startswith("Row 5: “9.99E+09” looks like a number the spreadsheet")
    assert "Traceback" not in refused.value.reason
    opt_out_list.refresh_from_db()
    assert opt_out_list.data is None
    assert opt_out_list.count == 0
    refusal = AuditEvent.objects.filter(action="optouts.list_loaded").latest("seq")
    assert refusal.outcome == "refused"
    assert "12345" not in refusal.reason


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"Name,Date\nAnn,2020-01-01\n", "No column is headed “NHS number”"),
        (f"{ANN}\n{BILL}\n".encode(), "The first row is an NHS number, not a heading"),
        (b"NHS number\n\n", "no NHS numbers"),
        (b"\x00\x01\x02binary", ""),
    ],
)
def test_unusable_files_are_refused_in_plain_words(
    tmp_path: Path, content: bytes, says: str
) -> None:
    opt_out_list = _list()
    path = tmp_path / "upload"
    path.write_bytes(content)
    with pytest.raises(actions.InvalidList) as refused:
        actions.load_list(by=OPERATOR, opt_out_list=opt_out_list, source=path)
    assert says in refused.value.reason
    assert refused.value.reason
    assert "Error" not in refused.value.reason[:6]


def test_a_new_version_replaces_the_old_and_shreds_it(tmp_path: Path) -> None:
    opt_out_list = _list()
    first = actions.load_list(
        by=OPERATOR, opt_out_list=opt_out_list, source=write_list(tmp_path, ANN, BILL)
    )
    old = first.data
    assert old is not None
    second = actions.load_list(
        by=OPERATOR, opt_out_list=opt_out_list, source=write_list(tmp_path, DAN)
    )
    assert second.version == 2
    assert second.count == 1
    old.refresh_from_db()
    assert old.deleted_at is not None
    assert second.data is not None
    assert second.data.deleted_at is None
    numbers = queries.opted_out_numbers([str(opt_out_list.owner_id)])
    assert numbers["nhs_number"].to_list() == [DAN]
    loaded = AuditEvent.objects.filter(action="optouts.list_loaded").latest("seq")
    assert loaded.details["version"] == 2
    assert loaded.details["people"] == 1
    assert loaded.details["replaced"] == str(old.pk)


def test_only_a_dpo_of_the_owner_or_an_operator_may_replace_a_list(tmp_path: Path) -> None:
    owner = OrganisationFactory(name="Owner Council")
    other = OrganisationFactory(name="Other Council")
    opt_out_list = _list(owner)
    path = write_list(tmp_path, ANN)
    for by in (member_actor(owner, Role.ANALYST), member_actor(other, Role.DPO)):
        with pytest.raises(NotPermitted):
            actions.load_list(by=by, opt_out_list=opt_out_list, source=path)
    loaded = actions.load_list(
        by=member_actor(owner, Role.DPO), opt_out_list=opt_out_list, source=path
    )
    assert loaded.count == 1
    with pytest.raises(NotPermitted):
        actions.create_list(
            by=member_actor(owner, Role.DPO), name="Mine", kind=ListKind.LOCAL, owner=owner
        )


# --- the decision ------------------------------------------------------------------------------


def test_grants_carry_the_opt_out_only_when_the_agreement_applies_it(world: OptOutWorld) -> None:
    link = world.link
    spl = Grant.objects.filter(agreement=link.shielded_agreement).get()
    care = Grant.objects.filter(agreement=link.social_care_agreement).get()
    assert spl.opt_out_purposes == ["purpose-1"]
    assert care.opt_out_purposes == []
    spl_decision = decide(
        actor=link.analyst,
        action=Action.LINK,
        resource=resource_for(world.compiled("shielded")),
        purpose=PURPOSE,
    )
    assert spl_decision.permitted, spl_decision.reason
    assert spl_decision.obligations.opt_out_for == (str(link.icb.pk),)
    assert "nhs_number" in spl_decision.obligations.nhs_number_fields
    care_decision = decide(
        actor=link.analyst,
        action=Action.LINK,
        resource=resource_for(world.compiled("social_care")),
        purpose=PURPOSE,
    )
    assert care_decision.permitted, care_decision.reason
    assert care_decision.obligations.opt_out_for == ()
    event = AuditEvent.objects.filter(action="access.decided").latest("seq")
    assert "opt_out_for" in event.details["obligations"]


def test_a_purpose_of_individual_care_is_exempt(tmp_path: Path) -> None:
    world = build_optout_world(tmp_path, direct_care=True)
    grant = Grant.objects.filter(agreement=world.extract_agreement).get()
    assert grant.opt_out_purposes == []
    decision = decide(
        actor=world.link.analyst,
        action=Action.EXTRACT,
        resource=resource_for(world.compiled("shielded")),
        purpose=PURPOSE,
    )
    assert decision.permitted, decision.reason
    assert decision.obligations.opt_out_for == ()


# --- where the filter sits ---------------------------------------------------------------------


def test_an_extract_leaves_out_people_who_opted_out_and_counts_them(world: OptOutWorld) -> None:
    link = world.link
    extract = extracts.request_extract(
        by=link.analyst, source=world.compiled("shielded"), purpose=PURPOSE, fmt="parquet"
    )
    run_queued_tasks()
    extract.refresh_from_db()
    assert extract.state == ExtractState.READY, extract.message
    assert extract.rows == 2  # Ann, Bill and Dan, less Ann
    assert extract.applied["opted_out"] == 1
    built = AuditEvent.objects.filter(action="extract.built").latest("seq")
    assert built.details["applied"]["opted_out"] == 1
    assert ANN not in str(built.details)


def test_an_extract_with_no_opt_out_applied_is_untouched(tmp_path: Path) -> None:
    world = build_optout_world(tmp_path, direct_care=True)
    extract = extracts.request_extract(
        by=world.link.analyst, source=world.compiled("shielded"), purpose=PURPOSE, fmt="parquet"
    )
    run_queued_tasks()
    extract.refresh_from_db()
    assert extract.state == ExtractState.READY, extract.message
    assert extract.rows == 3
    assert "opted_out" not in extract.applied


def test_an_unreadable_list_stops_the_extract(world: OptOutWorld) -> None:
    from accord.vault import actions as vault

    assert world.national.data is not None
    vault.crypto_shred(by=OPERATOR, obj=world.national.data, reason="test")
    extract = extracts.request_extract(
        by=world.link.analyst, source=world.compiled("shielded"), purpose=PURPOSE, fmt="csv"
    )
    run_queued_tasks()
    extract.refresh_from_db()
    assert extract.state == ExtractState.REFUSED
    assert "no current version" in extract.message


def test_linkage_leaves_out_people_who_opted_out_of_the_sources_that_apply_it(
    world: OptOutWorld,
) -> None:
    link = world.link
    job = linkage_actions.create_job(
        by=link.analyst,
        name="Single view",
        entity="person",
        refs=link.refs,
        purpose=PURPOSE,
        recipe="single-view",
    )
    run_queued_tasks()
    job.refresh_from_db()
    assert job.state == JobState.DONE, job.message
    shielded_ref = f"collection:{link.shielded.pk}"
    assert job.stats["opted_out"] == {shielded_ref: 1}
    assert job.stats["records"][shielded_ref] == 2
    # Ann stays in adult social care, whose agreement does not apply the opt-out.
    assert job.stats["records"][f"collection:{link.social_care.pk}"] == 3
    assert job.stats["stages"]["exact"] == 1  # only Bill is matched on NHS number now
    finished = AuditEvent.objects.filter(action="linkage.run_finished").latest("seq")
    assert finished.details["opted_out"] == {shielded_ref: 1}
    # The ICB, whose data it was, is told the count in its own audit log.
    applied = AuditEvent.objects.get(action="optouts.applied")
    assert applied.subject_organisation == str(link.icb.pk)
    assert applied.details["removed"] == 1
    assert ANN not in str(applied.details)


def test_outputs_leave_out_opted_out_people_of_contributors_that_apply_it(
    world: OptOutWorld,
) -> None:
    link = world.link
    compilation = link.shielded.compilations.order_by("-number").first()
    by = Actor.task("outputs", organisation_id=str(link.icb.pk))
    data = world.compiled("shielded")
    decision = decide(
        actor=by, action=Action.AGGREGATE, resource=resource_for(data), purpose="Outputs"
    )
    from accord.vault.parquet import read_frame

    frame = read_frame(data.pk, by=by, decision=decision, action=Action.AGGREGATE)
    # The ICB sends its own returns under no agreement: nothing applies.
    kept, removed = queries.drop_for_output(frame, compilation)
    assert removed is None
    assert kept.height == 3
    Contributor.objects.filter(collection=link.shielded).update(agreement=link.shielded_agreement)
    kept, removed = queries.drop_for_output(frame, compilation)
    assert removed == 1
    assert ANN not in kept["nhs_number"].to_list()


def test_the_filter_is_one_vectorised_anti_join_on_normalised_numbers() -> None:
    frame = pl.DataFrame(
        {"nhs_number": [f"{ANN[:3]}-{ANN[3:6]}-{ANN[6:]}", BILL, None, "junk"], "n": [1, 2, 3, 4]}
    )
    numbers = pl.DataFrame({"nhs_number": [ANN, NOWHERE]})
    kept, removed = queries.drop_numbers(frame, numbers, ["nhs_number"])
    assert removed == 1
    assert kept["n"].to_list() == [2, 3, 4]  # order kept; nulls and junk are not on a list
    only = pl.col("n") > 1
    kept, removed = queries.drop_numbers(frame, numbers, ["nhs_number"], only=only)
    assert removed == 0


def test_local_objection_lists_apply_only_to_their_owners_data(
    world: OptOutWorld, tmp_path
) -> None:
    county_list = _list(world.link.county)
    actions.load_list(by=OPERATOR, opt_out_list=county_list, source=write_list(tmp_path, BILL))
    applying = {found.name for found in queries.lists_applying_for([str(world.link.icb.pk)])}
    assert applying == {"National Data Opt-out"}
    applying = {found.name for found in queries.lists_applying_for([str(world.link.county.pk)])}
    assert applying == {"National Data Opt-out", "Objections"}
    assert nhs(1) != NOWHERE
    assert VaultObject.objects.filter(kind="opt_out_list").count() == 2


def test_the_demo_list_names_people_on_the_shielded_list_and_its_agreement_applies_it() -> None:
    from django.utils import timezone

    from accord.demo import optouts as demo_optouts
    from accord.demo import vulnerability
    from accord.demo.vulnerability_setup import SHARINGS
    from accord.linkage.normalise import normalise_nhs_number
    from accord.submissions import periods

    numbers = demo_optouts.demo_numbers()
    valid = numbers.to_frame("n").select(normalise_nhs_number(pl.col("n"))).to_series()
    assert valid.null_count() == 0
    assert all(n.startswith("999") for n in numbers)
    month = periods.start_of("monthly", timezone.localdate())
    shielded = set(
        vulnerability.shielded_patient_list(month)["nhs_number"]
        .drop_nulls()
        .str.replace_all(" ", "")
    )
    assert len(set(numbers) & shielded) == demo_optouts.FROM_SHIELDED
    spl = next(s for _, s in SHARINGS if s.standard == "shielded-patient-list")
    assert spl.national_data_opt_out is True
    others = [s for _, s in SHARINGS if s.standard != "shielded-patient-list"]
    assert all(s.national_data_opt_out is None for s in others)


def test_the_command_creates_loads_and_lists(tmp_path: Path, capsys) -> None:
    from accord.cli.main import build_parser

    owner = OrganisationFactory(name="NHS England (test)", ods_code="X26")
    parser = build_parser()
    path = write_list(tmp_path, ANN, BILL)
    args = parser.parse_args(["optouts", "load", "--list", "NDOO", str(path), "--no-progress"])
    assert args.handler(args) == 2  # no such list yet
    args = parser.parse_args(
        [*("optouts", "load", "--list", "NDOO", str(path)), "--create", "--owner", "X26"]
    )
    assert args.handler(args) == 0
    made = OptOutList.objects.get(name="NDOO")
    assert made.owner == owner
    assert made.count == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("NHS number\n12345\n")
    args = parser.parse_args(["optouts", "load", "--list", "NDOO", str(bad), "--no-progress"])
    assert args.handler(args) == 1
    assert "Row 2: “12345”" in capsys.readouterr().err
    args = parser.parse_args(["optouts", "list"])
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "NDOO\tNational Data Opt-out\tNHS England (test)\t2 people\tversion 1" in out
    assert ANN not in out


def test_the_count_covers_only_the_rows_the_reader_may_see(tmp_path: Path) -> None:
    from accord.access.decisions import Obligations

    opt_out_list = _list()
    actions.load_list(
        by=OPERATOR, opt_out_list=opt_out_list, source=write_list(tmp_path, ANN, BILL)
    )
    frame = pl.DataFrame({"nhs_number": [ANN, BILL, DAN], "area": ["A", "B", "A"]})
    obligations = Obligations(
        opt_out_for=(str(opt_out_list.owner_id),), row_filter=(("area", ("A",)),)
    )
    kept, removed = queries.drop_opted_out(frame, obligations)
    assert removed == 1  # Ann; Bill is in an area the reader does not get
    assert kept["nhs_number"].to_list() == [DAN]
    kept, removed = queries.drop_opted_out(frame, Obligations())
    assert removed == 0
    assert kept.height == 3
