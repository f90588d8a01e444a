"""Small helpers the thin views share."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from accord.audit.actor import Actor
from accord.organisations.actors import actor_for_request
from accord.organisations.enums import Role
from accord.organisations.models import Membership


def current_membership(request: HttpRequest) -> Membership:
    membership = getattr(request, "membership", None)
    if membership is None:
        raise PermissionDenied(
            "You are not a member of any organisation on Accord yet. Ask an organisation "
            "admin to invite you."
        )
    return membership


def require_role(request: HttpRequest, *roles: Role) -> Membership:
    membership = current_membership(request)
    if not membership.has_role(*roles):
        names = " or ".join(r.label.lower() for r in roles)
        raise PermissionDenied(
            f"Only an {names} of {membership.organisation.name} can see this page."
            if names[0] in "aeiou"
            else f"Only a {names} of {membership.organisation.name} can see this page."
        )
    return membership


def actor(request: HttpRequest) -> Actor:
    return actor_for_request(request)
