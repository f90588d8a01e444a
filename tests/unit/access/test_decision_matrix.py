"""Who may read the county's housing benefit data: a table of (persona, data, action, purpose,
state of the world) and what the decision point must answer, run through ``decide()`` on a
real agreement, real grants and a real vault object, with every decision in the audit chain."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.utils import timezone

from accord.access.decisions import AUDIT_ACTION, NO_AGREEMENT, Resource, decide
from accord.access.enums import Action
from accord.access.models import Grant
from accord.agreements import actions as agreement_actions
from accord.agreements.models import Agreement
from accord.audit.actor import Actor
from accord.audit.models import AuditEvent
from accord.audit.verification import verify_chain
from accord.demo.sharing import signer_for
from accord.organisations import actions as organisation_actions
from accord.organisations.enums import Role
from accord.organisations.models import Membership
from accord.vault import actions as vault_actions
from accord.vault.models import VaultObject
from accord.vault.parquet import store_frame
from accord.vault.queries import resource_for
from tests.factories import member_actor

from .sharing import PURPOSE, World, county_shares_housing_benefit, hb_frame

pytestmark = pytest.mark.django_db

DATASET = "housing-benefit-claims"
OWN_DATA = "is the controller of its own data."
GRANTED = "grants this to your organisation for “Target cost of living support"


@dataclass
class Scene:
    world: World
    data: VaultObject
    county_officer: Actor
    actors: dict[str, Actor] = field(default_factory=dict)


def build_scene() -> Scene:
    world = county_shares_housing_benefit()
    officer = member_actor(world.county, Role.DATA_OFFICER)
    data = store_frame(
        by=officer,
        organisation=world.county,
        kind="dataset",
        name="Housing benefit claims, November",
        frame=hb_frame(),
        dataset=DATASET,
    )
    scene = Scene(world=world, data=data, county_officer=officer)
    scene.actors = {
        "county analyst": member_actor(world.county, Role.ANALYST),
        "district analyst": member_actor(world.district, Role.ANALYST),
        "district data officer": member_actor(world.district, Role.DATA_OFFICER),
        "district viewer": member_actor(world.district, Role.VIEWER),
        "other district analyst": member_actor(world.other_district, Role.ANALYST),
        "stranger analyst": member_actor(world.stranger, Role.ANALYST),
    }
    return scene


# --- changes to the world before the decision ---------------------------------------------------


def nothing(scene: Scene) -> None:
    pass


def suspend(scene: Scene) -> None:
    agreement_actions.suspend(
        by=signer_for(scene.world.county),
        agreement=scene.world.agreement,
        reason="Data breach under investigation at the district",
    )


def expire(scene: Scene) -> None:
    Agreement.objects.filter(pk=scene.world.agreement.pk).update(status="expired")


def not_yet_started(scene: Scene) -> None:
    start = timezone.localdate() + dt.timedelta(days=30)
    Grant.objects.filter(agreement=scene.world.agreement).update(starts_on=start)


def past_review(scene: Scene) -> None:
    review = timezone.localdate() - dt.timedelta(days=1)
    Grant.objects.filter(agreement=scene.world.agreement).update(review_on=review)


def shred(scene: Scene) -> None:
    vault_actions.crypto_shred(
        by=scene.county_officer, obj=scene.data, reason="Retention period reached"
    )


def use_token(revoked: bool, actions: tuple[str, ...] = ()) -> Callable[[Scene], None]:
    """The district analyst reads through an API token of theirs (revoked, or limited)."""

    def change(scene: Scene) -> None:
        actor = scene.actors["district analyst"]
        assert actor.user_id is not None
        membership = Membership.objects.get(
            user_id=actor.user_id, organisation_id=scene.world.district.pk
        )
        token, _ = organisation_actions.create_api_token(
            by=actor, membership=membership, name="Support scheme system"
        )
        if actions:
            token.actions = list(actions)
            token.save(update_fields=["actions"])
        if revoked:
            organisation_actions.revoke_api_token(by=actor, token=token)
        scene.actors["district analyst"] = dataclasses.replace(
            actor, credential=f"api_token:{token.pk}"
        )

    return change


@dataclass(frozen=True)
class Case:
    persona: str
    action: Action
    outcome: str  # "permit" or "deny"
    fragment: str  # in the reason a person reads
    purpose: str = PURPOSE
    fields: tuple[str, ...] = ()
    dataset: str = DATASET  # the resource's, as the vault would describe another object
    change: Callable[[Scene], None] = nothing
    # For permits: the area the rows are limited to ("" for none), and whether nino is hashed.
    area: str = ""
    pseudonymised: bool = False


MAIDSTONE = "E07000110"
CANTERBURY = "E07000106"

MATRIX: dict[str, Case] = {
    "the county reads its own data": Case(
        "county analyst", Action.VIEW, "permit", OWN_DATA, purpose="Check November's return"
    ),
    "the county extracts its own data": Case("county analyst", Action.EXTRACT, "permit", OWN_DATA),
    "Maidstone views its area, pseudonymised": Case(
        "district analyst", Action.VIEW, "permit", GRANTED, area=MAIDSTONE, pseudonymised=True
    ),
    "Maidstone's data officer extracts": Case(
        "district data officer",
        Action.EXTRACT,
        "permit",
        GRANTED,
        fields=("nino", "uprn", "ltla_cd"),
        area=MAIDSTONE,
        pseudonymised=True,
    ),
    "Maidstone names the purpose by its id, in capitals": Case(
        "district analyst",
        Action.VIEW,
        "permit",
        GRANTED,
        purpose="PURPOSE-1",
        area=MAIDSTONE,
        pseudonymised=True,
    ),
    "Canterbury views its own area": Case(
        "other district analyst",
        Action.VIEW,
        "permit",
        GRANTED,
        area=CANTERBURY,
        pseudonymised=True,
    ),
    "Hackney has no agreement": Case("stranger analyst", Action.VIEW, "deny", NO_AGREEMENT),
    "Hackney is told nothing of deleted data": Case(
        "stranger analyst", Action.VIEW, "deny", NO_AGREEMENT, change=shred
    ),
    "a viewer at Maidstone": Case(
        "district viewer", Action.VIEW, "deny", "do not include reading data"
    ),
    "data under no agreement (another standard)": Case(
        "district analyst", Action.VIEW, "deny", NO_AGREEMENT, dataset="council-tax-support"
    ),
    "linking is not in the flow": Case(
        "district analyst", Action.LINK, "deny", "does not allow you to link records"
    ),
    "the agreement has expired": Case(
        "district analyst", Action.VIEW, "deny", "has expired, so no data flows", change=expire
    ),
    "the agreement is suspended": Case(
        "district analyst", Action.VIEW, "deny", "is suspended, so no data flows", change=suspend
    ),
    "the county still reads its own data while suspended": Case(
        "county analyst", Action.VIEW, "permit", OWN_DATA, change=suspend
    ),
    "the agreement has not started": Case(
        "district analyst", Action.VIEW, "deny", "starts on", change=not_yet_started
    ),
    "the agreement is past its review date": Case(
        "district analyst", Action.VIEW, "deny", "was due for review", change=past_review
    ),
    "a field the agreement does not grant": Case(
        "district analyst",
        Action.VIEW,
        "deny",
        "does not grant these fields: bank_account",
        fields=("nino", "bank_account"),
    ),
    "a purpose the agreement does not name": Case(
        "district analyst",
        Action.VIEW,
        "deny",
        "“Audit council tax discounts” is not a purpose of the agreement",
        purpose="Audit council tax discounts",
    ),
    "a prohibited use": Case(
        "district analyst",
        Action.VIEW,
        "deny",
        "rules out this use: Marketing",
        purpose="Marketing of the council's leisure centres",
    ),
    "the data has been deleted": Case(
        "district analyst", Action.VIEW, "deny", "has been deleted", change=shred
    ),
    "a revoked API token": Case(
        "district analyst",
        Action.API_READ,
        "deny",
        "This API token has been revoked.",
        change=use_token(revoked=True),
    ),
    "a working API token": Case(
        "district analyst",
        Action.API_READ,
        "permit",
        GRANTED,
        change=use_token(revoked=False),
        area=MAIDSTONE,
        pseudonymised=True,
    ),
    "an API token limited to viewing": Case(
        "district analyst",
        Action.API_READ,
        "deny",
        "This API token may not be used to read",
        change=use_token(revoked=False, actions=("view",)),
    ),
}


@pytest.mark.parametrize("case", MATRIX.values(), ids=MATRIX.keys())
def test_the_decision_matrix(case: Case) -> None:
    scene = build_scene()
    case.change(scene)
    scene.data.refresh_from_db()
    actor = scene.actors[case.persona]
    resource = resource_for(scene.data, case.fields)
    if case.dataset != DATASET:
        resource = Resource(
            kind=resource.kind,
            id=resource.id,
            owner_organisation_id=resource.owner_organisation_id,
            fields=resource.fields,
            dataset=case.dataset,
        )
    decision = decide(actor=actor, action=case.action, resource=resource, purpose=case.purpose)

    assert decision.permitted == (case.outcome == "permit"), decision.reason
    assert case.fragment in decision.reason
    agreement = scene.world.agreement
    on_agreement = decision.permitted and case.fragment == GRANTED
    if on_agreement:
        assert decision.agreements == ((str(agreement.pk), agreement.title),)
        o = decision.obligations
        assert o.row_filter == (("ltla_cd", (case.area,)),)
        assert ("nino" in o.pseudonymise_fields) is case.pseudonymised
        assert ("nino", "nino") in o.identifier_types
        assert o.pseudonym_agreement == str(agreement.pk)
        assert dict(o.generalise_fields) == {
            "date_of_birth": "age_band",
            "postcode": "postcode_sector",
        }
        assert set(case.fields) <= set(o.allowed_fields or ())
    else:
        assert decision.agreements == ()
    if decision.denied:
        assert decision.obligations.allowed_fields is None

    # Every decision is in the audit chain, with its purpose and the agreement it rests on.
    event = AuditEvent.objects.get(details__decision_id=str(decision.decision_id))
    assert event.action == AUDIT_ACTION
    assert event.outcome == case.outcome
    assert event.actor == actor.ref
    assert event.purpose == " ".join(case.purpose.split())
    assert event.reason == decision.reason
    assert event.target == f"dataset:{scene.data.pk}"
    assert event.subject_organisation == str(scene.world.county.pk)
    assert event.details["action"] == case.action.value
    assert event.details["resource"]["dataset"] == case.dataset
    if on_agreement:
        assert event.details["agreement"] == {"id": str(agreement.pk), "title": agreement.title}
        assert event.details["obligations"]["row_filter"] == [["ltla_cd", [case.area]]]
    else:
        assert event.details["agreement"] is None
    result = verify_chain()
    assert result.ok, result.problems


def test_the_whole_matrix_in_one_world_leaves_one_event_per_decision_and_a_sound_chain() -> None:
    """The cases that change nothing, asked one after another of one world."""
    scene = build_scene()
    before = AuditEvent.objects.filter(action=AUDIT_ACTION).count()
    asked = 0
    for case in MATRIX.values():
        if case.change is not nothing or case.dataset != DATASET:
            continue
        resource = resource_for(scene.data, case.fields)
        actor = scene.actors[case.persona]
        decision = decide(actor=actor, action=case.action, resource=resource, purpose=case.purpose)
        assert decision.permitted == (case.outcome == "permit")
        asked += 1
    assert AuditEvent.objects.filter(action=AUDIT_ACTION).count() == before + asked
    result = verify_chain()
    assert result.ok, result.problems
    assert result.events_checked >= asked
