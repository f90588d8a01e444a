"""The demo's sharing in force: Kent's housing benefit collection and its agreement with the
districts, and UKHSA's weekly releases to every council. Each test loads the demo as
``accord demo`` does and checks what a tester would find."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from django.utils import timezone

from accord.access.areas import areas_of
from accord.access.extracts import request_extract, shared_with
from accord.access.models import Extract, ExtractState, Grant, Release
from accord.agreements.models import Agreement
from accord.audit.models import AuditEvent
from accord.demo import housing_benefit, releases
from accord.demo.datasets import housing_benefit_claims, lsoas_in
from accord.demo.loader import load_demo
from accord.organisations.actors import actor_for
from accord.organisations.models import Membership, Organisation
from accord.submissions import periods
from accord.submissions.models import Collection
from tests.tasks import queued_task_count, run_queued_tasks

from .conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

DISTRICTS = {
    "Maidstone Borough Council": "E07000110",
    "Canterbury City Council": "E07000106",
    "Tunbridge Wells Borough Council": "E07000116",
}
COUNCILS = {
    *DISTRICTS,
    "Kent County Council",
    "Medway Council",
    "London Borough of Hackney",
    "London Borough of Islington",
}
SHARED_ANALYST = "analyst@midkent.demo.accord.test"
UKHSA_ANALYST = "analyst@ukhsa.demo.accord.test"


def _organisation(name: str) -> Organisation:
    return Organisation.objects.get(name=name)


def test_kent_shares_housing_benefit_with_its_three_districts() -> None:
    load_demo(password=DEMO_PASSWORD)
    agreement = Agreement.objects.get(title=housing_benefit.SHARING.title)
    assert agreement.status == "active"
    grants = Grant.objects.filter(agreement=agreement).select_related("provider", "recipient")
    assert {g.recipient.name: g.row_filter for g in grants} == {
        name: {"column": "ltla_cd", "values": [code]} for name, code in DISTRICTS.items()
    }
    for grant in grants:
        assert grant.provider.name == "Kent County Council"
        assert grant.dataset == "housing-benefit-claims"
        assert grant.frequency == "monthly"
        assert sorted(grant.actions) == ["extract", "view"]
        assert [title for _, title in grant.purposes] == [housing_benefit.PURPOSE]
        changes = {f["name"]: f["transformation"] for f in grant.fields}
        assert changes["nino"] == changes["person_id"] == changes["hb_claim_ref"]
        assert changes["nino"] == "pseudonymise_keyed_hash"
        assert changes["date_of_birth"] == changes["postcode"] == "generalise"


def test_the_housing_benefit_collection_is_compiled_from_kents_return() -> None:
    load_demo(password=DEMO_PASSWORD)
    collection = Collection.objects.get(slug=housing_benefit.SLUG)
    assert collection.owner.name == "Kent County Council"
    assert collection.schedule == "monthly"
    assert collection.standard_slug == "housing-benefit-claims"
    assert [c.organisation.name for c in collection.contributors.all()] == ["Kent County Council"]
    (submission,) = collection.submissions.all()
    assert submission.state == "accepted", submission.reason
    last_month = periods.start_of(
        "monthly", timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    )
    assert submission.period == last_month
    assert submission.submitted_by == "analyst@kent.demo.accord.test"
    (compilation,) = collection.compilations.all()
    assert compilation.rows == housing_benefit.CLAIMS
    assert compilation.data.deleted_at is None
    # Sent, checked and compiled through the real actions and tasks, each audited.
    target = f"collection:{collection.pk}"
    assert (
        AuditEvent.objects.filter(
            action="submission.received", target=f"submission:{submission.pk}"
        ).count()
        == 1
    )
    assert AuditEvent.objects.filter(action="collection.compiled", target=target).count() == 1
    assert queued_task_count() == 0  # nothing left for the worker to do again


def test_a_district_analyst_gets_an_extract_of_only_its_own_claims_pseudonymised() -> None:
    load_demo(password=DEMO_PASSWORD)
    maidstone = _organisation("Maidstone Borough Council")
    membership = Membership.objects.get(user__username=SHARED_ANALYST, organisation=maidstone)
    (shared,) = [
        s
        for s in shared_with(maidstone)
        if s.grant.agreement.title == housing_benefit.SHARING.title
    ]
    (source,) = shared.sources
    assert source.name == housing_benefit.NAME
    extract = request_extract(
        by=actor_for(membership.user, membership),
        source=source.data,
        purpose=housing_benefit.PURPOSE,
        fmt="csv",
        collection=source.collection,
    )
    run_queued_tasks()
    extract = Extract.objects.get(pk=extract.pk)
    assert extract.state == ExtractState.READY, extract.message
    claims = housing_benefit_claims(
        timezone.localdate().replace(day=1), rows=housing_benefit.CLAIMS
    )
    assert extract.rows == claims.filter(pl.col("ltla_cd") == "E07000110").height > 0
    assert {"nino", "person_id", "hb_claim_ref"} <= set(extract.applied["pseudonymised"])


def test_ukhsa_publishes_two_weekly_releases_each_council_has_its_own_slice() -> None:
    summary = load_demo(password=DEMO_PASSWORD)
    ukhsa = _organisation("UK Health Security Agency")
    assert ukhsa.sector == "executive_agency"
    assert not ukhsa.gss_code
    persona = next(p for p in summary.personas if p.username == UKHSA_ANALYST)
    assert persona.memberships[0].organisation == ukhsa.name
    assert persona.memberships[0].roles == ("Data officer", "Analyst")
    assert persona.totp_secret  # sees personal data roles: signs in with two factors

    agreement = Agreement.objects.get(title=releases.SHARING.title)
    assert agreement.status == "active"
    assert set(
        Grant.objects.filter(agreement=agreement).values_list("recipient__name", flat=True)
    ) == set(COUNCILS)
    published = list(Release.objects.filter(agreement=agreement).order_by("published_at"))
    assert len(published) == releases.WEEKS == 2
    assert published[0].label != published[1].label
    for release in published:
        assert release.provider == ukhsa
        assert release.dataset == "covid-tests-lsoa-weekly"
        assert release.published_by_label == UKHSA_ANALYST
        recipients = {r.organisation.name: r for r in release.recipients.all()}
        assert set(recipients) == COUNCILS
        for name, recipient in recipients.items():
            # Two rows (testing pillars) a week for each LSOA in the council's area.
            lsoas = sum(len(lsoas_in(code)) for code in areas_of(recipient.organisation))
            assert recipient.rows == 2 * lsoas > 0, name
            assert recipient.received_at is None  # waiting: "New"
            assert recipient.notified_at is not None
        kent = recipients["Kent County Council"].rows
        assert kent == sum(recipients[name].rows for name in DISTRICTS)
        assert release.rows == sum(
            r.rows for n, r in recipients.items() if n != "Kent County Council"
        )


def test_a_second_run_publishes_nothing_again() -> None:
    load_demo(password=DEMO_PASSWORD)
    counts = (Agreement.objects.count(), Release.objects.count(), Extract.objects.count())
    again = load_demo(password=DEMO_PASSWORD)
    assert again.created == ()
    assert (Agreement.objects.count(), Release.objects.count(), Extract.objects.count()) == counts
    assert Collection.objects.get(slug=housing_benefit.SLUG).submissions.count() == 1
