"""Writes about organisations, members and invitations.

Each action takes keyword arguments and an actor ``by=``, runs in one transaction and writes its
audit event in that transaction. Refusals are recorded by ``audited`` after the rollback.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accord.audit.actions import audited, record
from accord.audit.actor import Actor, ActorKind

from .enums import Role
from .exceptions import InvitationInvalid, NotPermitted, Refused
from .models import ApiToken, Invitation, Membership, Organisation, User
from .queries import admin_count, is_admin_of


def _target(obj: Organisation | Membership | Invitation | User) -> str:
    return f"{type(obj).__name__.lower()}:{obj.pk}"


def _clean_roles(roles: Iterable[str]) -> list[str]:
    chosen = set(roles)
    unknown = chosen - set(Role.values)
    if unknown:
        raise ValidationError(f"Unknown role: {', '.join(sorted(unknown))}.")
    if not chosen:
        raise ValidationError("Choose at least one role.")
    return [r for r in Role.values if r in chosen]


def _require_admin(by: Actor, organisation: Organisation) -> None:
    if by.kind is ActorKind.SYSTEM or by.is_platform_staff:
        return
    if not is_admin_of(by.user_id, organisation):
        raise NotPermitted(
            f"Only an organisation admin of {organisation.name} can manage its members.",
            target=_target(organisation),
        )


def _keep_an_admin(membership: Membership) -> None:
    """Refuse to take away the organisation's last admin."""
    organisation = membership.organisation
    if (
        membership.is_active
        and membership.has_role(Role.ORGANISATION_ADMIN)
        and admin_count(organisation) <= 1
    ):
        raise NotPermitted(
            f"{organisation.name} must keep at least one organisation admin. "
            "Give the role to someone else first.",
            target=_target(membership),
        )


def _join(user: User, organisation: Organisation, roles: Iterable[str]) -> Membership:
    """Make ``user`` an active member with ``roles``, adding to any roles already held."""
    membership, created = Membership.objects.get_or_create(
        user=user, organisation=organisation, defaults={"roles": _clean_roles(roles)}
    )
    if not created:
        # A removed member starts again from the roles given now; a current member gains them.
        kept = membership.roles if membership.is_active else []
        membership.roles = _clean_roles([*kept, *roles])
        membership.is_active = True
        membership.save(update_fields=["roles", "is_active"])
    return membership


@audited("organisation.created")
def create_organisation(
    *,
    by: Actor,
    name: str,
    sector: str,
    gss_code: str = "",
    ods_code: str = "",
    ico_registration: str = "",
    is_demo: bool = False,
) -> Organisation:
    if not (by.kind is ActorKind.SYSTEM or by.is_platform_staff):
        raise NotPermitted("Only platform staff can create organisations.")
    organisation = Organisation(
        name=name,
        sector=sector,
        gss_code=gss_code,
        ods_code=ods_code,
        ico_registration=ico_registration,
        is_demo=is_demo,
    )
    organisation.full_clean()
    organisation.save()
    record(
        by=by,
        action="organisation.created",
        target=_target(organisation),
        details={"name": name, "sector": sector, "gss_code": organisation.gss_code},
        subject_organisation_id=str(organisation.pk),
    )
    return organisation


@audited("organisation.member.added")
def add_member(
    *, by: Actor, organisation: Organisation, user: User, roles: Iterable[str]
) -> Membership:
    _require_admin(by, organisation)
    chosen = _clean_roles(roles)
    membership = _join(user, organisation, chosen)
    record(
        by=by,
        action="organisation.member.added",
        target=_target(membership),
        details={"member": user.email, "roles": membership.roles},
        subject_organisation_id=str(organisation.pk),
    )
    return membership


@audited("organisation.member.roles_changed")
def change_roles(*, by: Actor, membership: Membership, roles: Iterable[str]) -> Membership:
    organisation = membership.organisation
    _require_admin(by, organisation)
    chosen = _clean_roles(roles)
    if Role.ORGANISATION_ADMIN not in chosen:
        _keep_an_admin(membership)
    before = list(membership.roles)
    membership.roles = chosen
    membership.save(update_fields=["roles"])
    record(
        by=by,
        action="organisation.member.roles_changed",
        target=_target(membership),
        details={"member": membership.user.email, "before": before, "after": chosen},
        subject_organisation_id=str(organisation.pk),
    )
    return membership


@audited("organisation.member.removed")
def remove_member(*, by: Actor, membership: Membership) -> None:
    organisation = membership.organisation
    _require_admin(by, organisation)
    _keep_an_admin(membership)
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    record(
        by=by,
        action="organisation.member.removed",
        target=_target(membership),
        details={"member": membership.user.email},
        subject_organisation_id=str(organisation.pk),
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@audited("organisation.invitation.sent")
def invite_member(
    *, by: Actor, organisation: Organisation, email: str, roles: Iterable[str]
) -> tuple[Invitation, str]:
    """Create an invitation and email its link. Returns the invitation and the secret token
    (only its hash is stored)."""
    _require_admin(by, organisation)
    email = email.strip().lower()
    validate_email(email)
    chosen = _clean_roles(roles)
    if organisation.memberships.filter(user__email__iexact=email, is_active=True).exists():
        raise ValidationError(f"{email} is already a member of {organisation.name}.")
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organisation=organisation,
        email=email,
        roles=chosen,
        token_hash=_token_hash(token),
        invited_by_id=by.user_id,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_DAYS),
    )
    record(
        by=by,
        action="organisation.invitation.sent",
        target=_target(invitation),
        details={"email": email, "roles": chosen},
        subject_organisation_id=str(organisation.pk),
    )
    link = settings.SITE_URL + reverse("web:invitation", args=[token])
    body = render_to_string(
        "web/email/invitation.txt",
        {
            "invitation": invitation,
            "link": link,
            "inviter": by.label,
            "days": settings.INVITATION_DAYS,
        },
    )
    transaction.on_commit(
        lambda: send_mail(
            f"You are invited to join {organisation.name} on Accord",
            body,
            None,
            [email],
        )
    )
    return invitation, token


@audited("organisation.invitation.revoked")
def revoke_invitation(*, by: Actor, invitation: Invitation) -> None:
    _require_admin(by, invitation.organisation)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    record(
        by=by,
        action="organisation.invitation.revoked",
        target=_target(invitation),
        details={"email": invitation.email},
        subject_organisation_id=str(invitation.organisation.pk),
    )


def find_open_invitation(token: str) -> Invitation:
    invitation = (
        Invitation.objects.select_related("organisation")
        .filter(token_hash=_token_hash(token))
        .first()
    )
    if invitation is None or not invitation.is_open:
        raise InvitationInvalid(
            "This invitation link is not valid: it may have expired, been used or been "
            "withdrawn. Ask your organisation admin to send a new one."
        )
    return invitation


@audited("organisation.invitation.accepted")
def accept_invitation(*, by: Actor, token: str) -> Membership:
    """The signed-in person ``by`` accepts the invitation behind ``token``."""
    invitation = find_open_invitation(token)
    if by.user_id is None:
        raise NotPermitted("Sign in to accept an invitation.")
    user = User.objects.get(pk=by.user_id)
    if user.email.lower() != invitation.email.lower():
        raise InvitationInvalid(
            f"This invitation was sent to a different email address. Sign in as "
            f"{invitation.email} to accept it.",
            target=_target(invitation),
        )
    membership = _join(user, invitation.organisation, invitation.roles)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    record(
        by=by,
        action="organisation.invitation.accepted",
        target=_target(invitation),
        details={"email": invitation.email, "roles": membership.roles},
        organisation_id=str(invitation.organisation_id),
        organisation_name=invitation.organisation.name,
    )
    return membership


@audited("account.created")
def create_account_from_invitation(
    *, by: Actor, token: str, first_name: str, last_name: str, password: str
) -> User:
    """Someone without an account follows an invitation link and creates one."""
    invitation = find_open_invitation(token)
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise InvitationInvalid(
            f"There is already an account for {invitation.email}. Sign in to accept."
        )
    user = User(
        username=invitation.email,
        email=invitation.email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
    )
    validate_password(password, user)
    user.set_password(password)
    user.save()
    record(
        by=by,
        action="account.created",
        target=_target(user),
        details={"email": user.email, "via": "invitation"},
        subject_organisation_id=str(invitation.organisation.pk),
    )
    return user


@audited("organisation.switched")
def switch_organisation(*, by: Actor, membership: Membership) -> Membership:
    if membership.user_id != by.user_id or not membership.is_active:
        raise NotPermitted("You are not a member of that organisation.")
    if not membership.organisation.is_active:
        raise NotPermitted(f"{membership.organisation.name} has been switched off on Accord.")
    record(
        by=by,
        action="organisation.switched",
        target=_target(membership.organisation),
        organisation_id=str(membership.organisation_id),
        organisation_name=membership.organisation.name,
    )
    return membership


# API tokens: how long one works unless its maker chooses otherwise, and the longest allowed.
API_TOKEN_DAYS = 90
API_TOKEN_MAX_DAYS = 365


def _new_api_secret() -> tuple[str, str]:
    """(prefix, secret): ``acc_<prefix>_<random>``. The prefix is shown to tell tokens apart;
    the random part carries 256 bits from ``secrets``."""
    prefix = secrets.token_hex(4)
    return prefix, f"acc_{prefix}_{secrets.token_urlsafe(32)}"


@audited("organisation.api_token.created")
def create_api_token(
    *, by: Actor, membership: Membership, name: str, days: int = API_TOKEN_DAYS
) -> tuple[ApiToken, str]:
    """Make an API token acting for ``membership``. Only the member themself may. Returns the
    token and its secret, which is shown once: only its hash is stored."""
    if by.user_id is None or membership.user_id != by.user_id:
        raise NotPermitted(
            "You can only create API tokens for yourself.", target=_target(membership)
        )
    if not membership.is_active or not membership.organisation.is_active:
        raise NotPermitted(
            f"You are not an active member of {membership.organisation.name}.",
            target=_target(membership),
        )
    name = name.strip()
    if not name:
        raise ValidationError("Give the token a name, such as the system that will use it.")
    if len(name) > 100:
        raise ValidationError("The name must be 100 characters or fewer.")
    if not 1 <= days <= API_TOKEN_MAX_DAYS:
        raise ValidationError(f"A token must work for between 1 and {API_TOKEN_MAX_DAYS} days.")
    prefix, secret = _new_api_secret()
    while ApiToken.objects.filter(prefix=prefix).exists():
        prefix, secret = _new_api_secret()
    token = ApiToken.objects.create(
        membership=membership,
        name=name,
        prefix=prefix,
        secret_hash=ApiToken.hash_secret(secret),
        expires_at=timezone.now() + timedelta(days=days),
    )
    record(
        by=by,
        action="organisation.api_token.created",
        target=f"api_token:{token.pk}",
        details={
            "name": name,
            "prefix": prefix,
            "member": membership.user.email,
            "roles": list(membership.roles),
            "expires_at": token.expires_at.isoformat(),
        },
        subject_organisation_id=str(membership.organisation_id),
    )
    return token, secret


@audited("organisation.api_token.revoked")
def revoke_api_token(*, by: Actor, token: ApiToken) -> ApiToken:
    """Stop a token working at once. Its owner or an organisation admin may."""
    membership = token.membership
    target = f"api_token:{token.pk}"
    if by.user_id is None or (
        membership.user_id != by.user_id and not is_admin_of(by.user_id, membership.organisation)
    ):
        raise NotPermitted(
            "Only the person who made an API token, or an organisation admin of "
            f"{membership.organisation.name}, can revoke it.",
            target=target,
        )
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise Refused(f"The API token {token.name} is already revoked.", target=target)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record(
        by=by,
        action="organisation.api_token.revoked",
        target=target,
        details={"name": token.name, "prefix": token.prefix, "member": membership.user.email},
        subject_organisation_id=str(membership.organisation_id),
    )
    return token
