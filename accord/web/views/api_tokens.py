"""API tokens: a person makes tokens that let a system call the JSON API as them, acting for
their current organisation with their roles there; the secret is shown once. Organisation
admins can also revoke their members' tokens."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.layout import Field, Fluid, Size
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_POST

from accord.organisations import actions
from accord.organisations.enums import Role
from accord.organisations.models import ApiToken, Membership

from ..forms import GDSForm
from .common import actor, current_membership

LIFETIMES = [(30, "30 days"), (90, "90 days"), (180, "180 days"), (365, "1 year")]


class ApiTokenForm(GDSForm):
    submit_label = "Create token"
    name = forms.CharField(
        label="Name",
        help_text="Say what will use it, so you know which token to revoke, like 'Nightly "
        "register export'",
        max_length=100,
        error_messages={
            "required": "Enter a name for the token",
            "max_length": "The name must be 100 characters or fewer",
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    days = forms.TypedChoiceField(
        label="How long should it work?",
        choices=LIFETIMES,
        coerce=int,
        initial=actions.API_TOKEN_DAYS,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how long the token should work"},
    )

    def layout_fields(self) -> list[Any]:
        return [
            Field.text("name", field_width=Fluid.TWO_THIRDS),
            Field.radios("days", legend_size=Size.SMALL, small=True),
        ]


def _tokens(membership: Membership) -> list[ApiToken]:
    return list(membership.api_tokens.all())


def _members_tokens(membership: Membership) -> list[ApiToken]:
    """Other members' usable tokens, for an organisation admin to revoke."""
    if not membership.has_role(Role.ORGANISATION_ADMIN):
        return []
    return list(
        ApiToken.objects.filter(
            membership__organisation=membership.organisation,
            membership__is_active=True,
            revoked_at=None,
            expires_at__gt=timezone.now(),
        )
        .exclude(membership=membership)
        .select_related("membership__user")
    )


def _page(request: HttpRequest, membership: Membership, form: ApiTokenForm) -> HttpResponse:
    return render(
        request,
        "web/organisation/api_tokens.html",
        {
            "form": form,
            "membership": membership,
            "organisation": membership.organisation,
            "tokens": _tokens(membership),
            "members_tokens": _members_tokens(membership),
        },
    )


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = actions.create_api_token(
                by=actor(request),
                membership=membership,
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
            )
        except ValidationError as error:
            form.add_error("name", error)
        else:
            # Shown on this response only: never stored, never put in the session.
            return render(
                request,
                "web/organisation/api_tokens_created.html",
                {"token": token, "secret": secret, "organisation": membership.organisation},
            )
    return _page(request, membership, form)


@login_required
@require_POST
def revoke_api_token(request: HttpRequest, token_id: int) -> HttpResponse:
    membership = current_membership(request)
    tokens = ApiToken.objects.filter(membership__organisation=membership.organisation)
    if not membership.has_role(Role.ORGANISATION_ADMIN):
        tokens = tokens.filter(membership=membership)
    token = get_object_or_404(tokens.select_related("membership__organisation"), pk=token_id)
    if token.revoked_at is not None:
        messages.info(request, f"The token {token.name} was already revoked.")
    else:
        actions.revoke_api_token(by=actor(request), token=token)
        messages.success(request, f"The token {token.name} has been revoked. It no longer works.")
    return redirect("web:api_tokens")


urlpatterns: list[URLPattern] = [
    path("organisation/api-tokens/", api_tokens, name="api_tokens"),
    path(
        "organisation/api-tokens/<int:token_id>/revoke/",
        revoke_api_token,
        name="revoke_api_token",
    ),
]
