"""decide(): facts read afresh from the database, and every decision written to the audit chain."""

from __future__ import annotations

import dataclasses

import pytest
from django.db import transaction

from accord.access.decisions import (
    AUDIT_ACTION,
    NO_AGREEMENT,
    STAFF_METADATA_ONLY,
    Decision,
    Resource,
    decide,
)
from accord.access.enums import Action, ResourceKind, Task
from accord.access.exceptions import AccessDenied
from accord.audit.actor import Actor, ActorKind
from accord.audit.chain import event_hash
from accord.audit.enums import GENESIS_HASH
from accord.audit.models import AuditEvent
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role
from accord.organisations.models import Organisation
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

from .helpers import PURPOSE

pytestmark = pytest.mark.django_db


def submission_of(organisation: Organisation, kind: ResourceKind = ResourceKind.SUBMISSION):
    return Resource(
        kind=kind,
        id="41",
        owner_organisation_id=str(organisation.pk),
        fields=("uprn", "qualifying_benefit"),
        description="Free school meals eligibility, March",
    )


def member(*roles: str, **membership_fields):
    membership = MembershipFactory(roles=list(roles or [Role.ANALYST]), **membership_fields)
    return membership, actor_for(membership.user, membership)


def acting_for(user, organisation: Organisation, **overrides) -> Actor:
    return Actor(
        kind=ActorKind.PERSON,
        ref=f"user:{user.pk}",
        label=user.email,
        organisation_id=str(organisation.pk),
        organisation_name=organisation.name,
        **overrides,
    )


def view(actor: Actor, resource: Resource, purpose: str = PURPOSE) -> Decision:
    return decide(actor=actor, action=Action.VIEW, resource=resource, purpose=purpose)


def last_event() -> AuditEvent:
    return AuditEvent.objects.latest("seq")


class TestPeople:
    def test_a_member_reads_its_own_organisations_data(self):
        membership, actor = member(Role.ANALYST)
        decision = view(actor, submission_of(membership.organisation))
        assert decision.permitted
        decision.require(actor=actor, action=Action.VIEW, resource=decision.resource)

    def test_another_organisations_data_is_denied(self):
        _, actor = member(Role.DATA_OFFICER)
        decision = view(actor, submission_of(OrganisationFactory()))
        assert not decision.permitted
        assert decision.reasons == (NO_AGREEMENT,)

    @pytest.mark.parametrize(
        "roles",
        [(Role.VIEWER,), (Role.ORGANISATION_ADMIN,), (Role.ORGANISATION_ADMIN, Role.VIEWER)],
    )
    def test_roles_that_do_not_read_data_are_denied(self, roles):
        membership, actor = member(*roles)
        decision = view(actor, submission_of(membership.organisation))
        assert not decision.permitted
        assert "do not include reading data" in decision.reason

    def test_roles_are_read_from_the_database_not_from_the_actor(self):
        membership, actor = member(Role.VIEWER)
        claims_more = dataclasses.replace(actor, roles=(Role.ANALYST.value,))
        assert not view(claims_more, submission_of(membership.organisation)).permitted

    def test_a_role_removed_after_sign_in_takes_effect_at_once(self):
        membership, actor = member(Role.ANALYST)
        membership.roles = [Role.VIEWER.value]
        membership.save()
        assert actor.roles == (Role.ANALYST.value,)
        assert not view(actor, submission_of(membership.organisation)).permitted

    def test_an_inactive_membership_is_denied(self):
        membership, actor = member(Role.ANALYST, is_active=False)
        decision = view(actor, submission_of(membership.organisation))
        assert not decision.permitted
        assert "membership" in decision.reason

    def test_an_inactive_organisation_is_denied(self):
        membership, actor = member(Role.ANALYST)
        Organisation.objects.filter(pk=membership.organisation_id).update(is_active=False)
        decision = view(actor, submission_of(membership.organisation))
        assert not decision.permitted
        assert "is not active on Accord" in decision.reason

    def test_an_inactive_account_is_denied(self):
        membership, actor = member(Role.ANALYST)
        membership.user.is_active = False
        membership.user.save()
        assert not view(actor, submission_of(membership.organisation)).permitted

    def test_an_account_that_no_longer_exists_is_denied(self):
        membership, actor = member(Role.ANALYST)
        organisation = membership.organisation
        membership.user.delete()
        assert not view(actor, submission_of(organisation)).permitted

    def test_acting_for_another_organisation_is_denied_the_owners_data(self):
        owner_membership, _ = member(Role.ANALYST)
        user = owner_membership.user
        elsewhere = MembershipFactory(user=user, roles=[Role.ANALYST.value])
        actor = actor_for(user, elsewhere)
        decision = view(actor, submission_of(owner_membership.organisation))
        assert not decision.permitted
        assert decision.reasons == (NO_AGREEMENT,)

    def test_acting_for_an_organisation_one_is_not_a_member_of_is_denied(self):
        membership, _ = member(Role.ANALYST)
        owner = OrganisationFactory()
        actor = acting_for(membership.user, owner, roles=(Role.ANALYST.value,))
        decision = view(actor, submission_of(owner))
        assert not decision.permitted
        assert "not a member" in decision.reason

    @pytest.mark.parametrize("organisation_id", ["", "abc", "٣", "99999999"])
    def test_odd_organisation_references_are_denied(self, organisation_id):
        membership, actor = member(Role.ANALYST)
        odd = dataclasses.replace(actor, organisation_id=organisation_id)
        assert not view(odd, submission_of(membership.organisation)).permitted

    def test_platform_staff_without_a_membership_are_denied(self):
        staff = UserFactory(is_staff=True, is_superuser=True)
        owner = OrganisationFactory()
        for actor in (actor_for(staff), acting_for(staff, owner, is_platform_staff=True)):
            decision = view(actor, submission_of(owner))
            assert not decision.permitted
            assert decision.reasons[0] == STAFF_METADATA_ONLY

    def test_a_person_whose_ref_is_not_a_user_is_denied(self):
        membership, actor = member(Role.ANALYST)
        odd = dataclasses.replace(actor, ref="user:abc")
        assert not view(odd, submission_of(membership.organisation)).permitted


class TestOtherActors:
    def test_anonymous_is_denied(self):
        assert not view(Actor.anonymous(), submission_of(OrganisationFactory())).permitted

    def test_system_is_denied(self):
        assert not view(Actor.system(), submission_of(OrganisationFactory())).permitted

    def test_no_purpose_is_denied(self):
        membership, actor = member(Role.ANALYST)
        decision = view(actor, submission_of(membership.organisation), purpose=" ")
        assert not decision.permitted
        assert decision.reasons == ("State the purpose for which you need this data.",)


class TestTasks:
    def test_a_known_task_processes_on_the_controllers_behalf(self):
        owner = OrganisationFactory()
        decision = view(Actor.task(Task.VALIDATION), submission_of(owner))
        assert decision.permitted
        assert decision.obligations.on_behalf_of_controller == str(owner.pk)
        assert "Processing on the controller's behalf" in decision.reason

    def test_an_unknown_task_is_denied(self):
        assert not view(Actor.task("backup"), submission_of(OrganisationFactory())).permitted

    def test_a_task_beyond_its_needs_is_denied(self):
        decision = decide(
            actor=Actor.task(Task.RETENTION),
            action=Action.EXTRACT,
            resource=submission_of(OrganisationFactory()),
            purpose="Delete data past its retention date",
        )
        assert not decision.permitted
        assert "The retention task may not" in decision.reason


class TestAudit:
    """Every decision, permit and deny, is one event in the chain with its purpose."""

    def cases(self):
        membership, analyst = member(Role.ANALYST)
        _, viewer = member(Role.VIEWER)
        own = submission_of(membership.organisation)
        staff = actor_for(UserFactory(is_staff=True))
        return [
            (analyst, Action.VIEW, own, "permit"),
            (analyst, Action.EXTRACT, submission_of(OrganisationFactory()), "deny"),
            (viewer, Action.VIEW, own, "deny"),
            (staff, Action.VIEW, own, "deny"),
            (Actor.anonymous(), Action.VIEW, own, "deny"),
            (Actor.system(), Action.VIEW, own, "deny"),
            (Actor.task(Task.OUTPUTS), Action.AGGREGATE, own, "permit"),
            (Actor.task(Task.RETENTION), Action.EXTRACT, own, "deny"),
            (Actor.task("backup"), Action.VIEW, own, "deny"),
        ]

    def test_every_decision_is_recorded_with_its_purpose(self):
        for actor, action, resource, outcome in self.cases():
            before = AuditEvent.objects.count()
            decision = decide(actor=actor, action=action, resource=resource, purpose=PURPOSE)
            assert AuditEvent.objects.count() == before + 1
            event = last_event()
            assert event.action == AUDIT_ACTION == "access.decided"
            assert event.outcome == outcome
            assert decision.permitted == (outcome == "permit")
            assert event.purpose == PURPOSE
            assert event.actor == actor.ref
            assert event.target == f"{resource.kind}:{resource.id}"
            assert event.subject_organisation == resource.owner_organisation_id
            assert event.reason == decision.reason
            assert event.details["decision_id"] == str(decision.decision_id)
            assert event.details["action"] == action.value
            assert event.details["reasons"] == list(decision.reasons)
            assert event.details["obligations"]["on_behalf_of_controller"] == (
                decision.obligations.on_behalf_of_controller
            )
            assert event.details["resource"]["fields"] == list(resource.fields)
            assert event.details["expires_at"] == decision.expires_at.isoformat()

    def test_a_denial_for_want_of_a_purpose_is_recorded_too(self):
        decision = view(Actor.anonymous(), submission_of(OrganisationFactory()), purpose="")
        event = last_event()
        assert event.outcome == "deny"
        assert event.purpose == ""
        assert event.details["decision_id"] == str(decision.decision_id)

    def test_an_over_long_purpose_is_recorded_within_the_column(self):
        membership, actor = member(Role.ANALYST)
        decision = view(actor, submission_of(membership.organisation), purpose="why " * 200)
        assert not decision.permitted
        assert len(last_event().purpose) == 500

    def test_the_chain_stays_intact(self):
        for actor, action, resource, _ in self.cases():
            decide(actor=actor, action=action, resource=resource, purpose=PURPOSE)
        previous = None
        for event in AuditEvent.objects.order_by("seq"):
            fields = {f.name: getattr(event, f.name) for f in AuditEvent._meta.fields}
            assert event_hash(fields) == event.hash
            assert event.prev_hash == (previous.hash if previous else GENESIS_HASH)
            previous = event


class TestDenialsSurvive:
    # Asks for transactional_db by name: the shared conftest restores the audit triggers
    # around tests that do.
    def test_a_deny_stays_recorded_when_the_callers_own_work_then_fails(self, transactional_db):
        _, actor = member(Role.ANALYST)
        elsewhere = OrganisationFactory()
        decision = view(actor, submission_of(elsewhere))

        def callers_work() -> None:
            with transaction.atomic():
                Organisation.objects.create(name="Half-made Council", sector="other")
                decision.require(actor=actor, action=Action.VIEW, resource=decision.resource)

        with pytest.raises(AccessDenied):
            callers_work()
        assert not Organisation.objects.filter(name="Half-made Council").exists()
        event = AuditEvent.objects.get(details__decision_id=str(decision.decision_id))
        assert event.outcome == "deny"
