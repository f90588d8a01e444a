"""Following an invitation link: create an account or sign in, then join the organisation."""

from __future__ import annotations

import time

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accord.audit.actor import Actor
from accord.organisations import actions
from accord.organisations.actors import actor_for
from accord.organisations.exceptions import InvitationInvalid
from accord.organisations.middleware import SESSION_KEY
from accord.organisations.models import User

from ..forms import NewAccountForm
from .auth import PENDING_NEXT, PENDING_SINCE, PENDING_USER
from .common import actor


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invite = actions.find_open_invitation(token)
    except InvitationInvalid as invalid:
        return render(
            request,
            "web/organisation/invitation_invalid.html",
            {"reason": invalid.reason},
            status=404,
        )
    context = {"invitation": invite, "roles": invite.roles}

    if request.user.is_authenticated:
        assert isinstance(request.user, User)
        if request.user.email.lower() != invite.email.lower():
            return render(request, "web/organisation/invitation_wrong_person.html", context)
        if request.method == "POST":
            membership = actions.accept_invitation(by=actor(request), token=token)
            request.session[SESSION_KEY] = str(membership.organisation_id)
            messages.success(request, f"You have joined {membership.organisation.name}.")
            return redirect("web:home")
        return render(request, "web/organisation/invitation_accept.html", context)

    if User.objects.filter(email__iexact=invite.email).exists():
        sign_in = f"{reverse('web:sign_in')}?next={request.path}"
        return render(
            request, "web/organisation/invitation_sign_in.html", {**context, "sign_in": sign_in}
        )

    form = NewAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = actions.create_account_from_invitation(
                by=Actor.anonymous(invite.email),
                token=token,
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                password=form.cleaned_data["password"],
            )
        except ValidationError as error:
            form.add_error("password", error)
        else:
            membership = actions.accept_invitation(by=actor_for(user), token=token)
            request.session[SESSION_KEY] = str(membership.organisation_id)
            messages.success(
                request,
                f"Your account is ready and you have joined {membership.organisation.name}.",
            )
            if user.requires_two_factor():
                request.session[PENDING_USER] = user.pk
                request.session[PENDING_SINCE] = time.time()
                request.session[PENDING_NEXT] = reverse("web:home")
                return redirect("web:two_factor_setup")
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("web:home")
    return render(
        request, "web/organisation/invitation_new_account.html", {**context, "form": form}
    )
