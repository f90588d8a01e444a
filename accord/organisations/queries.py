"""Rule-bearing reads about organisations and their members."""

from __future__ import annotations

from django.db.models import QuerySet

from .enums import Role
from .models import Invitation, Membership, Organisation, User


def memberships_of(user: User) -> QuerySet[Membership]:
    """The organisations a person can act for."""
    return (
        Membership.objects.filter(user=user, is_active=True, organisation__is_active=True)
        .select_related("organisation")
        .order_by("organisation__name")
    )


def membership_of(user: User, organisation_id: int | str | None) -> Membership | None:
    if not organisation_id:
        return None
    return memberships_of(user).filter(organisation_id=organisation_id).first()


def is_admin_of(user_id: int | None, organisation: Organisation) -> bool:
    if user_id is None:
        return False
    membership = Membership.objects.filter(
        user_id=user_id, organisation=organisation, is_active=True, organisation__is_active=True
    ).first()
    return membership is not None and membership.has_role(Role.ORGANISATION_ADMIN)


def members_of(organisation: Organisation) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organisation=organisation, is_active=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__email")
    )


def open_invitations_of(organisation: Organisation) -> list[Invitation]:
    pending = organisation.invitations.filter(accepted_at=None, revoked_at=None)
    return [invitation for invitation in pending if invitation.is_open]


def admin_count(organisation: Organisation) -> int:
    return sum(1 for m in members_of(organisation) if m.has_role(Role.ORGANISATION_ADMIN))
