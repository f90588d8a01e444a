"""The county's housing benefit collection, and the agreement by which it shares the claims with
its districts (use case 4.4).

Kent County Council runs a monthly collection on the housing benefit claims standard, to which
it sends its own extract (one return covering claimants in its districts). Last month's return
is sent through ``submissions.actions.receive`` as Kent's county analyst would send it, and is
checked and compiled by the real background tasks, so the compiled dataset is there when the
demo starts.

Under an agreement in force, Kent shares the claims with Maidstone, Canterbury and Tunbridge
Wells to target cost of living support: each district sees only its own residents' claims, with
the claim reference, person ID and NINO pseudonymised and dates of birth and postcodes
generalised. Everything goes through the real actions, so every step is audited.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping

from django.utils import timezone

from accord.agreements.models import Agreement, Framework
from accord.audit.actor import Actor
from accord.organisations.actors import actor_for
from accord.organisations.models import Membership, Organisation
from accord.standards.queries import get_standard
from accord.submissions import actions, periods
from accord.submissions.models import Collection, Submission

from .datasets import housing_benefit_claims
from .frameworks import SLUG as FRAMEWORK_SLUG
from .sharing import Sharing, set_up_sharing

SLUG = "housing-benefit-claims-demo"
NAME = "Housing benefit claims (demo)"
OWNER = "kent"
DISTRICTS = ("maidstone", "canterbury", "tunbridgewells")
DEADLINE_DAYS = 10  # each month's extract is due by the 10th of the next month
CLAIMS = 1200  # claims in the extract
CHECK_WAIT_SECONDS = 120  # for a check another worker took
CAVEAT = (
    "Synthetic demo data: the people do not exist. NINOs are random numbers of valid format, "
    "UPRNs random 12-digit numbers starting 99; districts and postcode districts are real."
)
PURPOSE = "Target cost of living support to households on housing benefit"
SHARING = Sharing(
    title="Kent housing benefit data for district cost of living support (demo)",
    purpose=PURPOSE,
    standard="housing-benefit-claims",
    frequency="monthly",
    actions=("view", "extract"),
    transformations={
        "nino": "pseudonymise_keyed_hash",
        "person_id": "pseudonymise_keyed_hash",
        "hb_claim_ref": "pseudonymise_keyed_hash",
        "date_of_birth": "generalise",
        "postcode": "generalise",
    },
    area_column="ltla_cd",
    function_or_power=(
        "Welfare services: discretionary cost of living support (the Household Support Fund) "
        "to households on housing benefit"
    ),
    report_back=(("Residents contacted and referred for support", "P1M"),),
    expected_outcomes=("Households on housing benefit offered cost of living support",),
    success_measures=("Residents contacted", "Residents referred for food support"),
    gateway="ukdsa:gateway/wra2012-s131",
    gateway_text=(
        "Welfare Reform Act 2012, section 131; Social Security (Information-sharing in "
        "relation to Welfare Services etc.) Regulations 2012"
    ),
)


def store_demo_housing_benefit(organisations: Mapping[str, Organisation]) -> list[str]:
    """The agreement, the collection and its returns where missing; say what was created."""
    created = _agreement(organisations)
    created += _collection(organisations)
    return created


def _agreement(organisations: Mapping[str, Organisation]) -> list[str]:
    # Any agreement of this title, whatever became of it: one a tester ended stays ended.
    if Agreement.objects.filter(title=SHARING.title).exists():
        return []
    set_up_sharing(
        framework=Framework.objects.get(slug=FRAMEWORK_SLUG),
        provider=organisations[OWNER],
        recipients=[organisations[key] for key in DISTRICTS],
        sharing=SHARING,
    )
    return [f"agreement “{SHARING.title}”"]


def member_actor(organisation: Organisation, roles: frozenset[str]) -> Actor | None:
    """A demo persona acting for ``organisation`` with one of ``roles`` (the first found), or
    None if a tester has taken every such role away."""
    for membership in (
        Membership.objects.filter(organisation=organisation, is_active=True, user__is_active=True)
        .select_related("user", "organisation")
        .order_by("pk")
    ):
        if set(membership.roles or ()) & roles and membership.user.username.endswith(".test"):
            return actor_for(membership.user, membership)
    return None


def _collection(organisations: Mapping[str, Organisation]) -> list[str]:
    from .loader import demo_actor  # the loader imports this module

    created: list[str] = []
    kent = organisations[OWNER]
    this_month = periods.start_of("monthly", timezone.localdate())
    last_month = periods.start_of("monthly", this_month - dt.timedelta(days=1))
    collection = Collection.objects.filter(slug=SLUG).first()
    if collection is None:
        collection = actions.create_collection(
            by=demo_actor(),
            owner=kent,
            slug=SLUG,
            name=NAME,
            description="The county's monthly extract of housing benefit and council tax "
            "reduction claims in its districts, shared with each district for its own "
            "residents under the housing benefit agreement.",
            standard=get_standard("housing-benefit-claims"),
            schedule="monthly",
            starts_on=last_month,
            deadline_days=DEADLINE_DAYS,
            deadline_time=dt.time(17, 0),
            invalid_rows="reject",
        )
        created.append(f"collection {NAME}")
    if not collection.contributors.filter(organisation=kent).exists():
        actions.add_contributor(by=demo_actor(), collection=collection, organisation=kent)
        created.append(f"contributor {kent.name} to {NAME}")
    if collection.submissions.exists():  # sent before: what testers did with them stays
        return created
    sender = member_actor(kent, frozenset(str(r) for r in actions.SUBMITTING_ROLES))
    if sender is None:
        return created
    # Last month's extract, taken on the first of this month.
    actions.receive(
        by=sender,
        collection=collection,
        period=last_month,
        filename=f"hb-claims-{this_month:%Y-%m-%d}.csv",
        source=housing_benefit_claims(this_month, rows=CLAIMS).write_csv().encode(),
        caveats=CAVEAT,
        via="cli",  # loaded by `accord demo`
    )
    created.append(f"return to {NAME} for {periods.label('monthly', last_month)}")
    _run_checks(collection)
    return created


def _run_checks(collection: Collection) -> None:
    """Run the checks the returns queued, and the compilation they queue, now: the demo starts
    with the compiled dataset there. (The immediate task backend has run them already.)"""
    from accord.tasks.worker import run_queued, uses_database_backend

    # A worker already running beside this (a test's, or a server's) may have taken a check:
    # wait for it rather than finding the return unchecked.
    deadline = time.monotonic() + CHECK_WAIT_SECONDS
    while True:
        if uses_database_backend():
            run_queued()
        if not Submission.objects.filter(collection=collection, state="received").exists():
            return
        if time.monotonic() > deadline:
            raise RuntimeError("The demo's housing benefit returns were not checked.")
        time.sleep(0.1)
