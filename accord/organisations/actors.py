"""Turning a signed-in person (and the organisation they act for) into an audit Actor."""

from __future__ import annotations

from django.http import HttpRequest

from accord.audit.actor import Actor, ActorKind

from .models import Membership, User


def actor_for(user: User, membership: Membership | None = None) -> Actor:
    return Actor(
        kind=ActorKind.PERSON,
        ref=f"user:{user.pk}",
        label=user.email or user.username,
        organisation_id=str(membership.organisation_id) if membership else "",
        organisation_name=membership.organisation.name if membership else "",
        roles=tuple(membership.roles) if membership else (),
        is_platform_staff=user.is_staff,
    )


def actor_signing_in(request: HttpRequest, user: User) -> Actor:
    """The actor for sign-in events: acting for the organisation the session will use."""
    from .middleware import choose_membership
    from .queries import memberships_of

    return actor_for(user, choose_membership(request, list(memberships_of(user))))


def actor_for_request(request: HttpRequest) -> Actor:
    user = request.user
    if not user.is_authenticated:
        return Actor.anonymous()
    assert isinstance(user, User)
    return actor_for(user, getattr(request, "membership", None))
