"""Choosing the organisation to act for; members, roles and invitations (organisation admins)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accord.audit.exceptions import Refused
from accord.organisations import actions, queries
from accord.organisations.enums import Role
from accord.organisations.middleware import SESSION_KEY
from accord.organisations.models import Invitation, Membership

from ..forms import InviteForm, OrganisationChoiceForm, RolesForm
from .common import actor, require_role


@login_required
def switch_organisation(request: HttpRequest) -> HttpResponse:
    memberships = getattr(request, "memberships", [])
    choices = [(str(m.organisation_id), m.organisation.name) for m in memberships]
    current = getattr(request, "membership", None)
    form = OrganisationChoiceForm(
        request.POST or None,
        choices=choices,
        initial={"organisation": str(current.organisation_id) if current else None},
    )
    if request.method == "POST" and form.is_valid():
        chosen = next(
            m for m in memberships if str(m.organisation_id) == form.cleaned_data["organisation"]
        )
        actions.switch_organisation(by=actor(request), membership=chosen)
        request.session[SESSION_KEY] = str(chosen.organisation_id)
        messages.success(request, f"You are now acting for {chosen.organisation.name}.")
        return redirect("web:home")
    return render(request, "web/organisation/switch.html", {"form": form})


@login_required
def members(request: HttpRequest) -> HttpResponse:
    membership = require_role(request, Role.ORGANISATION_ADMIN)
    organisation = membership.organisation
    return render(
        request,
        "web/organisation/members.html",
        {
            "organisation": organisation,
            "members": queries.members_of(organisation),
            "invitations": queries.open_invitations_of(organisation),
        },
    )


@login_required
def invite(request: HttpRequest) -> HttpResponse:
    membership = require_role(request, Role.ORGANISATION_ADMIN)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.invite_member(
                by=actor(request),
                organisation=membership.organisation,
                email=form.cleaned_data["email"],
                roles=form.cleaned_data["roles"],
            )
        except ValidationError as error:
            form.add_error("email", error)
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
            return redirect("web:members")
    return render(
        request,
        "web/organisation/invite.html",
        {"form": form, "organisation": membership.organisation},
    )


@login_required
def member(request: HttpRequest, membership_id: int) -> HttpResponse:
    own = require_role(request, Role.ORGANISATION_ADMIN)
    target = get_object_or_404(
        Membership, pk=membership_id, organisation=own.organisation, is_active=True
    )
    form = RolesForm(request.POST or None, initial={"roles": target.roles})
    if request.method == "POST" and form.is_valid():
        try:
            actions.change_roles(
                by=actor(request), membership=target, roles=form.cleaned_data["roles"]
            )
        except Refused as refusal:
            form.add_error("roles", refusal.reason)
        else:
            messages.success(request, f"Roles saved for {target.user.display_name}.")
            return redirect("web:members")
    return render(request, "web/organisation/member.html", {"form": form, "target": target})


@login_required
@require_POST
def remove_member(request: HttpRequest, membership_id: int) -> HttpResponse:
    own = require_role(request, Role.ORGANISATION_ADMIN)
    target = get_object_or_404(
        Membership, pk=membership_id, organisation=own.organisation, is_active=True
    )
    try:
        actions.remove_member(by=actor(request), membership=target)
    except Refused as refusal:
        messages.error(request, refusal.reason)
    else:
        messages.success(
            request, f"{target.user.display_name} has been removed from {own.organisation.name}."
        )
    return redirect("web:members")


@login_required
@require_POST
def revoke_invitation(request: HttpRequest, invitation_id: int) -> HttpResponse:
    own = require_role(request, Role.ORGANISATION_ADMIN)
    invitation = get_object_or_404(
        Invitation,
        pk=invitation_id,
        organisation=own.organisation,
        accepted_at=None,
        revoked_at=None,
    )
    actions.revoke_invitation(by=actor(request), invitation=invitation)
    messages.success(request, f"The invitation to {invitation.email} has been withdrawn.")
    return redirect("web:members")
