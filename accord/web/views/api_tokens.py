"""API tokens: a person makes tokens that let a system call the JSON API as them, acting for
their current organisation with their roles there; the secret is shown once. A token may be
limited to some of the organisation's agreements in force and to some access actions (its
scope, which the decision point reads at every decision). Organisation admins can also revoke
their members' tokens."""

from __future__ import annotations

from collections.abc import Iterable
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

from accord.access.enums import Action
from accord.organisations import actions
from accord.organisations.actions import API_TOKEN_DAYS
from accord.organisations.enums import Role
from accord.organisations.models import ApiToken, Membership
from accord.organisations.token_scopes import agreements_a_token_may_use, create_scoped_api_token

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
        initial=API_TOKEN_DAYS,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how long the token should work"},
    )

    agreements = forms.MultipleChoiceField(
        label="Which agreements may it use?",
        help_text="It can read shared data only under the agreements you tick. Tick none to let "
        "it use any agreement your organisation is a party to.",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose agreements from the list"},
    )
    actions = forms.MultipleChoiceField(
        label="What may it do with shared data?",
        help_text="Tick none to let it do whatever the agreements and your roles allow.",
        required=False,
        choices=Action.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose actions from the list"},
    )

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        # Read before the layout is built: with no agreement in force there is nothing to tick.
        self.agreements_in_force = {
            str(a.pk): a for a in agreements_a_token_may_use(membership.organisation_id)
        }
        super().__init__(*args, **kwargs)
        # Kept even when empty (and then not shown), so any agreement sent is refused rather
        # than ignored: a token must never get a wider scope than was asked for.
        field = self.fields["agreements"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(pk, a.title) for pk, a in self.agreements_in_force.items()]

    def layout_fields(self) -> list[Any]:
        scope = [Field.checkboxes("actions", legend_size=Size.SMALL, small=True)]
        if self.agreements_in_force:
            scope.insert(0, Field.checkboxes("agreements", legend_size=Size.SMALL, small=True))
        return [
            Field.text("name", field_width=Fluid.TWO_THIRDS),
            Field.radios("days", legend_size=Size.SMALL, small=True),
            *scope,
        ]


ACTION_LABELS = dict(Action.choices)


def _with_scope(tokens: Iterable[ApiToken]) -> list[ApiToken]:
    """The tokens, each with ``action_labels``: its actions as the page names them."""
    found = list(tokens)
    for token in found:
        token.action_labels = [  # type: ignore[attr-defined]
            ACTION_LABELS.get(a, a) for a in token.actions or ()
        ]
    return found


def _tokens(membership: Membership) -> list[ApiToken]:
    return _with_scope(membership.api_tokens.prefetch_related("agreements"))


def _members_tokens(membership: Membership) -> list[ApiToken]:
    """Other members' usable tokens, for an organisation admin to revoke."""
    if not membership.has_role(Role.ORGANISATION_ADMIN):
        return []
    return _with_scope(
        ApiToken.objects.filter(
            membership__organisation=membership.organisation,
            membership__is_active=True,
            revoked_at=None,
            expires_at__gt=timezone.now(),
        )
        .exclude(membership=membership)
        .select_related("membership__user")
        .prefetch_related("agreements")
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
    form = ApiTokenForm(request.POST or None, membership=membership)
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = create_scoped_api_token(
                by=actor(request),
                membership=membership,
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
                agreements=[form.agreements_in_force[pk] for pk in form.cleaned_data["agreements"]],
                actions=form.cleaned_data["actions"],
            )
        except ValidationError as error:
            # Scope errors name their field; the rest are about the name.
            form.add_error(None if hasattr(error, "error_dict") else "name", error)
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
