"""The facts the decision point needs, read from the database.

Only what the actor *says* it is doing (which organisation it acts for, which task it is) is
taken from the actor; everything that grants anything — the account's status, staff status,
membership, roles, the organisation's status — is read afresh here, never trusted from the
actor, whose roles may be stale.
"""

from __future__ import annotations

from accord.audit.actor import Actor, ActorKind
from accord.organisations.models import Membership, User

from .decisions import Facts, MembershipFacts


def _as_pk(value: str) -> int | None:
    """A primary key given as text, or None when it cannot be one ("", "abc", "٣")."""
    if value.isascii() and value.isdigit():
        return int(value)
    return None


def _user_id(actor: Actor) -> int | None:
    if actor.kind is not ActorKind.PERSON or not actor.ref.startswith("user:"):
        return None
    return _as_pk(actor.ref.removeprefix("user:"))


def facts_about(actor: Actor) -> Facts:
    """What the decision point knows of ``actor``, as of now."""
    facts = Facts(
        actor_kind=actor.kind,
        actor_ref=actor.ref,
        acting_for=actor.organisation_id,
        task_name=actor.task_name,
    )
    user_id = _user_id(actor)
    if user_id is None:
        return facts
    user = User.objects.filter(pk=user_id).values("is_active", "is_staff").first()
    if user is None:
        return facts
    return Facts(
        actor_kind=actor.kind,
        actor_ref=actor.ref,
        acting_for=actor.organisation_id,
        user_active=bool(user["is_active"]),
        is_platform_staff=bool(user["is_staff"]),
        membership=_membership_facts(user_id, actor.organisation_id),
    )


def _membership_facts(user_id: int, organisation_id: str) -> MembershipFacts | None:
    """The person's membership of the organisation it acts for, active or not."""
    organisation_pk = _as_pk(organisation_id)
    if organisation_pk is None:
        return None
    membership = (
        Membership.objects.filter(user_id=user_id, organisation_id=organisation_pk)
        .select_related("organisation")
        .first()
    )
    if membership is None:
        return None
    roles = membership.roles if isinstance(membership.roles, list) else []
    return MembershipFacts(
        organisation_id=str(membership.organisation_id),
        organisation_name=membership.organisation.name,
        organisation_active=membership.organisation.is_active,
        membership_active=membership.is_active,
        roles=frozenset(str(role) for role in roles),
    )
