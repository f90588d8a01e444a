"""Linkage jobs end to end on the real tasks, vault and decision point: what is linked, what
is stored and for whom, and every way a job is refused."""

from __future__ import annotations

import polars as pl
import pytest

from accord.access.decisions import decide
from accord.access.enums import Action
from accord.access.exceptions import AccessDenied
from accord.access.transform import hmac_sha256_hex
from accord.agreements import actions as agreement_actions
from accord.audit.exceptions import NotPermitted, Refused
from accord.audit.models import AuditEvent
from accord.demo.sharing import signer_for
from accord.demo.vulnerability_setup import PURPOSE
from accord.linkage import actions, queries
from accord.linkage.models import JobState, LinkageJob
from accord.vault import actions as vault
from accord.vault import retention
from accord.vault.queries import resource_for
from tests.tasks import run_queued_tasks

from .world import ANN, BILL, DAN, EVE, LinkWorld, build_link_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> LinkWorld:
    return build_link_world()


def _run(world: LinkWorld, **kwargs) -> LinkageJob:
    options = {
        "name": "Single view",
        "entity": "person",
        "refs": world.refs,
        "purpose": PURPOSE,
        "recipe": "single-view",
        **kwargs,
    }
    job = actions.create_job(by=world.analyst, **options)
    run_queued_tasks()
    job.refresh_from_db()
    return job


def test_a_job_links_the_datasets_and_stores_derived_data(world: LinkWorld) -> None:
    job = _run(world)
    assert job.state == JobState.DONE, job.message
    assert job.runs == 1
    records = job.stats["records"]
    # Canterbury's resident in adult social care is outside Maidstone's rows.
    assert records == {world.refs[0]: 4, world.refs[1]: 3, world.refs[2]: 3}
    assert job.stats["stages"]["exact"] == 2  # Ann and Bill by NHS number
    assert {a["title"] for a in job.agreements} == {
        world.social_care_agreement.title,
        world.shielded_agreement.title,
    }
    linked = queries.read_result(job, "linked", by=world.analyst)
    ann = linked.filter(pl.col("nhs_number") == ANN)
    assert ann["entity_id"].n_unique() == 1
    assert set(ann["standard"]) == {"adult-social-care-services", "shielded-patient-list"}
    assert set(ann["stage"]) == {"exact"}
    assert EVE not in linked["nhs_number"].to_list()  # Canterbury's, filtered out
    # Each record says which return and row it came from.
    assert linked["submission"].null_count() == 0
    assert linked["source_row"].null_count() == 0


def test_the_result_is_derived_data_of_every_source(world: LinkWorld) -> None:
    job = _run(world)
    assert job.linked is not None
    resource = resource_for(job.linked)
    assert resource.dataset == ""
    assert set(resource.source_datasets) >= {
        (str(world.county.pk), "adult-social-care-services"),
        (str(world.icb.pk), "shielded-patient-list"),
    }
    deadlines = [
        c.compilations.order_by("-number").first().data.retention_deadline
        for c in (world.council_tax, world.social_care, world.shielded)
    ]
    assert job.linked.retention_deadline <= min(d for d in deadlines if d)


def test_the_household_view_has_one_row_per_home_with_flags(world: LinkWorld) -> None:
    job = _run(world)
    view = queries.read_result(job, "view", by=world.analyst)
    assert view["uprn"].is_unique().all()
    ann = view.filter(pl.col("uprn") == "990000000001").row(0, named=True)
    assert ann["asc_open_service"] is True
    assert ann["shielded_in_household"] is True
    assert "Shielded patient list" in ann["source_systems"]
    assert not {"nhs_number", "given_name", "family_name", "date_of_birth"} & set(view.columns)
    assert job.stats["households"] == view.height


def test_reading_the_result_needs_every_source_agreement(world: LinkWorld) -> None:
    job = _run(world)
    agreement_actions.suspend(
        by=signer_for(world.icb), agreement=world.shielded_agreement, reason="A breach"
    )
    with pytest.raises(AccessDenied, match="suspended"):
        queries.read_result(job, "linked", by=world.analyst)
    # The county's own staff are not the job's: no ground for the ICB's data or Maidstone's.
    county_analyst = world.county_analyst()
    with pytest.raises(AccessDenied):
        queries.read_result(job, "linked", by=county_analyst)


def test_a_run_after_suspension_is_refused_and_audited(world: LinkWorld) -> None:
    job = _run(world)
    agreement_actions.suspend(
        by=signer_for(world.county), agreement=world.social_care_agreement, reason="A breach"
    )
    actions.run_again(by=world.analyst, job=job)
    run_queued_tasks()
    job.refresh_from_db()
    assert job.state == JobState.REFUSED
    assert "suspended" in job.message
    assert AuditEvent.objects.filter(action="linkage.run_refused").exists()
    # The earlier result stays until it is replaced, but nobody may read it now.
    with pytest.raises(AccessDenied):
        queries.read_result(job, "linked", by=world.analyst)


def test_suspension_while_linking_stops_delivery_and_shreds_the_result(world: LinkWorld) -> None:
    job = actions.create_job(
        by=world.analyst, name="Mid-run", entity="person", refs=world.refs, purpose=PURPOSE
    )

    def suspend_when_storing(done: int, message: str) -> None:
        if message == "Storing the linked dataset":
            agreement_actions.suspend(
                by=signer_for(world.icb), agreement=world.shielded_agreement, reason="Breach"
            )

    job = actions.run_job(str(job.pk), on_progress=suspend_when_storing)
    assert job.state == JobState.REFUSED
    assert job.linked is None
    shredded = AuditEvent.objects.filter(action="vault.object.shredded")
    assert shredded.count() >= 2  # the linked records and the pairs to review


def test_a_purpose_the_agreements_do_not_name_is_refused(world: LinkWorld) -> None:
    with pytest.raises(AccessDenied, match="not a purpose"):
        actions.create_job(
            by=world.analyst,
            name="Marketing",
            entity="person",
            refs=world.refs,
            purpose="Electoral canvassing",
        )
    assert not LinkageJob.objects.exists()
    assert AuditEvent.objects.filter(action="access.decided", outcome="deny").exists()


def test_a_grant_without_linkage_is_refused() -> None:
    world = build_link_world(link_actions=("view",))
    with pytest.raises(AccessDenied, match="does not allow you to link"):
        actions.create_job(
            by=world.analyst, name="No link", entity="person", refs=world.refs, purpose=PURPOSE
        )


def test_the_wrong_role_the_wrong_organisation_and_too_few_datasets(world: LinkWorld) -> None:
    with pytest.raises(NotPermitted):
        actions.create_job(
            by=world.viewer, name="V", entity="person", refs=world.refs, purpose=PURPOSE
        )
    with pytest.raises(Refused, match="not one your organisation can use"):
        actions.create_job(
            by=world.stranger_analyst, name="S", entity="person", refs=world.refs, purpose=PURPOSE
        )
    with pytest.raises(Refused, match="at least two"):
        actions.create_job(
            by=world.analyst, name="One", entity="person", refs=world.refs[:1], purpose=PURPOSE
        )
    with pytest.raises(Refused, match="people or properties"):
        actions.create_job(
            by=world.analyst, name="X", entity="pets", refs=world.refs, purpose=PURPOSE
        )


def test_an_agreement_without_a_completed_dpia_stops_linkage(world: LinkWorld) -> None:
    version = world.shielded_agreement.current
    document = dict(version.document)
    document["dpia"] = {**document["dpia"], "completed_date": None, "outcome": None}
    type(version).objects.filter(pk=version.pk).update(document=document)
    with pytest.raises(Refused, match="impact assessment"):
        actions.create_job(
            by=world.analyst, name="No DPIA", entity="person", refs=world.refs, purpose=PURPOSE
        )


def test_keyed_mode_links_on_hashes_and_keeps_no_raw_identifier(world: LinkWorld) -> None:
    job = _run(world, keyed=True, recipe="")
    assert job.state == JobState.DONE, job.message
    assert job.stats["stages"]["exact"] == 2
    assert job.stats["stages"].get("probabilistic", 0) == 0
    linked = queries.read_result(job, "linked", by=world.analyst)
    raw = {
        "nhs_number",
        "uprn",
        "given_name",
        "family_name",
        "date_of_birth",
        "postcode",
        "address_line_1",
        "person_id",
    }
    assert not raw & set(linked.columns)
    key = actions.linkage_key(a["id"] for a in job.agreements)
    expected = hmac_sha256_hex(pl.Series([ANN]), key)[0]
    assert expected in linked["nhs_number_hash"].to_list()
    values = " ".join(str(v) for row in linked.iter_rows() for v in row)
    for secret in (ANN, BILL, "Archer", "990000000001", "ME14 1AA"):
        assert secret not in values


def test_clerical_decisions_apply_from_the_next_run(world: LinkWorld) -> None:
    job = _run(world)
    linked = queries.read_result(job, "linked", by=world.analyst)
    dan = linked.filter(pl.col("nhs_number") == DAN).row(0, named=True)
    carol = linked.filter(pl.col("standard") == "council-tax-accounts").row(2, named=True)
    actions.decide_pair(
        by=world.analyst,
        job=job,
        source_l=world.refs[2],
        record_l=dan["record_id"],
        source_r=world.refs[0],
        record_r=carol["record_id"],
        is_match=True,
        probability=0.6,
    )
    assert AuditEvent.objects.filter(action="linkage.pair_decided").count() == 1
    actions.run_again(by=world.analyst, job=job)
    run_queued_tasks()
    job.refresh_from_db()
    assert job.runs == 2
    assert job.stats["stages"]["clerical"] == 1
    relinked = queries.read_result(job, "linked", by=world.analyst)
    joined = relinked.filter(pl.col("record_id").is_in([dan["record_id"], carol["record_id"]]))
    assert joined["entity_id"].n_unique() == 1
    assert set(joined["stage"]) == {"clerical"}


def test_only_the_jobs_organisation_decides_its_pairs(world: LinkWorld) -> None:
    job = _run(world)
    with pytest.raises(NotPermitted):
        actions.decide_pair(
            by=world.stranger_analyst,
            job=job,
            source_l=world.refs[0],
            record_l="a",
            source_r=world.refs[1],
            record_r="b",
            is_match=True,
        )
    with pytest.raises(Refused, match="not from this job"):
        actions.decide_pair(
            by=world.analyst,
            job=job,
            source_l="collection:nope",
            record_l="a",
            source_r=world.refs[1],
            record_r="b",
            is_match=True,
        )


def test_a_new_run_destroys_the_last_runs_results(world: LinkWorld) -> None:
    job = _run(world)
    first = job.linked
    actions.run_again(by=world.analyst, job=job)
    run_queued_tasks()
    job.refresh_from_db()
    assert first is not None
    first.refresh_from_db()
    assert first.deleted_at is not None
    assert job.linked is not None
    assert job.linked.deleted_at is None


def test_a_source_deleted_destroys_the_result(world: LinkWorld) -> None:
    job = _run(world)
    compiled = world.shielded.compilations.order_by("-number").first().data
    vault.crypto_shred(by=signer_for(world.icb), obj=compiled, reason="Retention reached")
    # The retention run (served hourly, or `accord retention run`) sweeps derived data too.
    assert retention.run().withdrawn == 1
    assert actions.withdraw_stale(by=signer_for(world.district)) == 0  # nothing left to do
    job.refresh_from_db()
    assert job.linked is not None
    assert job.linked.deleted_at is not None
    assert "deleted" in job.message
    with pytest.raises(queries.JobNotFound):
        queries.read_result(job, "linked", by=world.analyst)


def test_every_source_decision_is_audited_with_the_purpose(world: LinkWorld) -> None:
    job = _run(world)
    decided = AuditEvent.objects.filter(action="access.decided", purpose=PURPOSE)
    links = [e for e in decided if e.details.get("action") == Action.LINK]
    assert len(links) >= 3 * 3  # each source: when made, when run, before delivery
    assert AuditEvent.objects.filter(
        action="linkage.run_finished", target=f"linkage_job:{job.pk}"
    ).exists()


def test_the_decision_point_permits_linkage_only_under_a_link_grant(world: LinkWorld) -> None:
    data = world.social_care.compilations.order_by("-number").first().data
    view = decide(
        actor=world.analyst, action=Action.VIEW, resource=resource_for(data), purpose=PURPOSE
    )
    link = decide(
        actor=world.analyst, action=Action.LINK, resource=resource_for(data), purpose=PURPOSE
    )
    assert view.permitted
    assert link.permitted
    extract = decide(
        actor=world.analyst, action=Action.EXTRACT, resource=resource_for(data), purpose=PURPOSE
    )
    assert extract.denied


def test_two_datasets_of_one_standard_are_kept_apart(world: LinkWorld) -> None:
    from accord.organisations.enums import Role
    from tests.factories import member_actor

    from .world import _collection, social_care

    own = _collection(
        world.district,
        "own-care-records",
        "adult-social-care-services",
        social_care(),
        member_actor(world.district, Role.DATA_OFFICER),
    )
    run_queued_tasks()
    refs = [*world.refs[:2], f"collection:{own.pk}"]
    job = _run(world, refs=refs)
    assert job.state == JobState.DONE, job.message
    linked = queries.read_result(job, "linked", by=world.analyst)
    assert set(linked["source"]) == set(refs)
    # Kent's copy is limited to Maidstone's rows; Maidstone's own has all four.
    assert linked.filter(pl.col("source") == refs[1]).height == 3
    assert linked.filter(pl.col("source") == refs[2]).height == 4
    view = queries.read_result(job, "view", by=world.analyst)
    assert view["uprn"].is_unique().all()


def test_an_expired_or_not_yet_started_agreement_is_refused(world: LinkWorld) -> None:
    import datetime as dt

    from accord.access.models import Grant

    grants = Grant.objects.filter(agreement=world.shielded_agreement)
    grants.update(ends_on=dt.date(2020, 1, 1))
    with pytest.raises(AccessDenied, match="ended on"):
        actions.create_job(
            by=world.analyst, name="Late", entity="person", refs=world.refs, purpose=PURPOSE
        )
    grants.update(ends_on=None, starts_on=dt.date(2099, 1, 1))
    with pytest.raises(AccessDenied, match="starts on"):
        actions.create_job(
            by=world.analyst, name="Early", entity="person", refs=world.refs, purpose=PURPOSE
        )
    assert not LinkageJob.objects.exists()


def test_a_field_the_agreement_does_not_grant_is_not_linked_on(world: LinkWorld) -> None:
    from accord.access.models import Grant

    grant = Grant.objects.get(agreement=world.shielded_agreement)
    grant.fields = [f for f in grant.fields if f["name"] not in ("given_name", "family_name")]
    grant.save(update_fields=["fields"])
    job = _run(world)
    assert job.state == JobState.DONE, job.message
    linked = queries.read_result(job, "linked", by=world.analyst)
    assert "family_name" not in linked.columns
    assert "Archer" not in str(linked.rows())
