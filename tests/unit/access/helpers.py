"""Building facts, resources and actors for the decision point's tests."""

from __future__ import annotations

from datetime import UTC, datetime

from accord.access.decisions import Facts, MembershipFacts, Resource
from accord.access.enums import ResourceKind
from accord.audit.actor import Actor, ActorKind
from accord.organisations.enums import Role

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
PURPOSE = "Plan free school meals auto-enrolment for the spring term"
OWN = "1"
OTHER = "2"


def resource(owner: str = OWN, kind: ResourceKind = ResourceKind.SUBMISSION) -> Resource:
    return Resource(
        kind=kind,
        id="41",
        owner_organisation_id=owner,
        fields=("uprn", "parent_dob", "qualifying_benefit"),
        description="Free school meals eligibility, March",
    )


def membership(
    organisation_id: str = OWN,
    *,
    roles: tuple[str, ...] = (Role.ANALYST,),
    organisation_active: bool = True,
    membership_active: bool = True,
) -> MembershipFacts:
    return MembershipFacts(
        organisation_id=organisation_id,
        organisation_name=f"Council {organisation_id}",
        organisation_active=organisation_active,
        membership_active=membership_active,
        roles=frozenset(roles),
    )


def person(
    acting_for: str = OWN,
    *,
    member: MembershipFacts | None = None,
    user_active: bool = True,
    staff: bool = False,
    no_membership: bool = False,
) -> Facts:
    return Facts(
        actor_kind=ActorKind.PERSON,
        actor_ref="user:7",
        acting_for=acting_for,
        user_active=user_active,
        is_platform_staff=staff,
        membership=None if no_membership else (member or membership(acting_for)),
    )


def task(name: str, acting_for: str = "") -> Facts:
    return Facts(
        actor_kind=ActorKind.TASK,
        actor_ref=f"task:{name}",
        acting_for=acting_for,
        task_name=name,
    )


def actor_of(facts: Facts) -> Actor:
    """The actor that facts describe, as the vault's read path would hold it."""
    return Actor(
        kind=facts.actor_kind,
        ref=facts.actor_ref,
        label=facts.actor_ref,
        organisation_id=facts.acting_for,
    )
