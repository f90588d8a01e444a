"""Data requests: asking for data, seeing first what may already answer the question, the
discussion, and the holders' answers (approving drafts an agreement from a framework template).

Requests are seen only by the organisation that made them and the organisations asked."""

from __future__ import annotations

import datetime as dt
from typing import Any

from crispy_forms_gds.layout import Field, Size
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_POST

from accord.agreements import frameworks
from accord.agreements import queries as agreement_queries
from accord.agreements.enums import DECIDING_ROLES, DRAFTING_ROLES
from accord.agreements.models import Framework
from accord.audit.exceptions import Refused
from accord.data_requests import actions, queries, transitions
from accord.data_requests.models import DataRequest
from accord.organisations.models import Membership, Organisation
from accord.standards.queries import latest_versions

from ..drafting import DayField
from ..forms import GDSForm
from .common import actor, current_membership, require_role

SESSION_KEY = "accord.pending_request"
FREQUENCY_CHOICES = [(f, f.replace("_", " ").capitalize()) for f in actions.FREQUENCIES]


class RequestForm(GDSForm):
    submit_label = "Continue"

    title = forms.CharField(
        label="Give your request a short title",
        max_length=200,
        error_messages={"required": "Give the request a short title"},
    )
    question = forms.CharField(
        label="What question would the data answer?",
        widget=forms.Textarea,
        max_length=actions.MAX_TEXT,
        error_messages={"required": "Say what question the data would answer"},
    )
    reason = forms.CharField(
        label="Why do you need it?",
        help_text="The benefit to people, and the function or duty of yours it serves",
        widget=forms.Textarea,
        max_length=actions.MAX_TEXT,
        error_messages={"required": "Say why you need it"},
    )
    standards = forms.MultipleChoiceField(
        label="Which data do you need?",
        help_text="Choose published data standards, or describe the data below",
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    data_description = forms.CharField(
        label="Or describe the data in words",
        widget=forms.Textarea,
        required=False,
        max_length=actions.MAX_TEXT,
    )
    holders = forms.ModelMultipleChoiceField(
        queryset=Organisation.objects.none(),
        label="Which organisations hold it?",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one organisation that holds the data"},
    )
    frequency = forms.ChoiceField(
        label="How often do you need it?",
        choices=[("", "Choose"), *FREQUENCY_CHOICES],
        error_messages={"required": "Say how often you need the data"},
    )
    needed_by = DayField(label="When do you need it by?", help_text="For example, 27/3/2027")
    framework = forms.ModelChoiceField(
        queryset=Framework.objects.all(),
        label="Under which framework?",
        required=False,
        empty_label="No framework",
    )

    def __init__(self, membership: Membership, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        holders: Any = self.fields["holders"]
        holders.queryset = Organisation.objects.filter(is_active=True).exclude(
            pk=membership.organisation_id
        )
        standards: Any = self.fields["standards"]
        standards.choices = [(s.slug, s.title) for s in latest_versions()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("standards") and not (data.get("data_description") or "").strip():
            self.add_error("standards", "Choose a data standard, or describe the data in words")
        return data

    def layout_fields(self) -> list[Any]:
        return [
            Field.text("title"),
            Field.textarea("question", rows=3),
            Field.textarea("reason", rows=3),
            Field.checkboxes("standards", legend_size=Size.SMALL, small=True),
            Field.textarea("data_description", rows=3),
            Field.checkboxes("holders", legend_size=Size.SMALL, small=True),
            Field.select("frequency"),
            Field.text("needed_by", field_width=10),
            Field.select("framework"),
        ]


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    rows = []
    for found in queries.requests_for(membership.organisation_id):
        rows.append(
            {
                "request": found,
                "ours": found.requester_id == membership.organisation_id,
                "status": transitions.STATUS_LABELS[found.status],
                "holders": [h.organisation.name for h in found.holders.all()],
            }
        )
    return render(
        request,
        "web/data_requests/list.html",
        {"rows": rows, "can_ask": membership.has_role(*DRAFTING_ROLES)},
    )


@login_required
def new_request(request: HttpRequest) -> HttpResponse:
    """Step one: the request. Step two (``confirm_request``) shows what may already answer it."""
    membership = require_role(request, *DRAFTING_ROLES)
    form = RequestForm(membership, request.POST or None, initial=request.session.get(SESSION_KEY))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        request.session[SESSION_KEY] = {
            "title": data["title"],
            "question": data["question"],
            "reason": data["reason"],
            "standards": data["standards"],
            "data_description": data["data_description"],
            "holders": [org.pk for org in data["holders"]],
            "frequency": data["frequency"],
            "needed_by": data["needed_by"].isoformat() if data["needed_by"] else "",
            "framework": data["framework"].pk if data["framework"] else None,
        }
        return redirect("web:confirm_request")
    return render(request, "web/form_page.html", {"form": form, "heading": "Ask for data"})


@login_required
def confirm_request(request: HttpRequest) -> HttpResponse:
    membership = require_role(request, *DRAFTING_ROLES)
    pending = request.session.get(SESSION_KEY)
    if not pending:
        return redirect("web:new_request")
    suggestions = queries.may_already_answer(
        f"{pending['title']} {pending['question']}",
        pending["standards"],
        membership.organisation_id,
    )
    error = ""
    if request.method == "POST":
        try:
            created = actions.post(
                by=actor(request),
                title=pending["title"],
                question=pending["question"],
                reason=pending["reason"],
                holders=list(Organisation.objects.filter(pk__in=pending["holders"])),
                frequency=pending["frequency"],
                standards=pending["standards"],
                data_description=pending["data_description"],
                needed_by=dt.date.fromisoformat(pending["needed_by"])
                if pending["needed_by"]
                else None,
                framework=Framework.objects.filter(pk=pending["framework"]).first(),
            )
        except Refused as refusal:
            error = refusal.reason
        else:
            del request.session[SESSION_KEY]
            messages.success(request, "Your request has been sent to the organisations asked.")
            return redirect("web:data_request", request_id=created.pk)
    holders = Organisation.objects.filter(pk__in=pending["holders"]).order_by("name")
    return render(
        request,
        "web/data_requests/confirm.html",
        {"pending": pending, "suggestions": suggestions, "holders": holders, "error": error},
    )


class ApproveForm(GDSForm):
    submit_label = "Approve and draft the agreement"

    framework = forms.ModelChoiceField(
        queryset=Framework.objects.all(),
        label="Under which framework?",
        empty_label="Choose a framework",
        error_messages={"required": "Choose a framework for the agreement"},
    )
    agreement_type = forms.ChoiceField(
        label="What kind of agreement?",
        choices=[(k, t.title) for k, t in frameworks.TEMPLATES.items()],
        widget=forms.RadioSelect,
        initial="data_disclosure_agreement",
        error_messages={"required": "Choose a kind of agreement"},
    )

    def layout_fields(self) -> list[Any]:
        return [
            Field.select("framework"),
            Field.radios("agreement_type", legend_size=Size.SMALL, small=True),
        ]


def _request(request: HttpRequest, request_id: str) -> tuple[Membership, DataRequest]:
    membership = current_membership(request)
    return membership, queries.request_for(membership.organisation_id, request_id)


@login_required
def request_detail(request: HttpRequest, request_id: str) -> HttpResponse:
    membership, found = _request(request, request_id)
    holder = next(
        (h for h in found.holders.all() if h.organisation_id == membership.organisation_id),
        None,
    )
    can_answer = (
        holder is not None
        and holder.answer == "awaiting"
        and found.status == "open"
        and membership.has_role(*DECIDING_ROLES)
    )
    frameworks_here = agreement_queries.frameworks_of(membership.organisation_id)
    approve_form = ApproveForm(
        initial={"framework": frameworks_here[0].pk if frameworks_here else None}
    )
    return render(
        request,
        "web/data_requests/detail.html",
        {
            "found": found,
            "status": transitions.STATUS_LABELS[found.status],
            "holders": [
                {"holder": h, "answer": transitions.ANSWER_LABELS[h.answer]}
                for h in found.holders.all()
            ],
            "comments": found.comments.select_related("organisation"),
            "can_answer": can_answer,
            "can_comment": found.status == "open"
            and membership.has_role(*DRAFTING_ROLES, *DECIDING_ROLES),
            "approve_form": approve_form,
            "can_withdraw": found.requester_id == membership.organisation_id
            and found.status == "open"
            and membership.has_role(*DRAFTING_ROLES),
            "frequency": dict(FREQUENCY_CHOICES).get(found.frequency, found.frequency),
            "standards": [s for s in latest_versions() if s.slug in found.standards],
        },
    )


def _back(request_id: str) -> HttpResponse:
    return redirect("web:data_request", request_id=request_id)


@login_required
@require_POST
def comment(request: HttpRequest, request_id: str) -> HttpResponse:
    _membership, found = _request(request, request_id)
    try:
        actions.comment(by=actor(request), request=found, body=request.POST.get("body", ""))
    except Refused as refusal:
        messages.error(request, refusal.reason)
    return _back(request_id)


@login_required
@require_POST
def approve(request: HttpRequest, request_id: str) -> HttpResponse:
    _membership, found = _request(request, request_id)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a framework and a kind of agreement to approve it.")
        return _back(request_id)
    try:
        agreement = actions.approve(
            by=actor(request),
            request=found,
            framework=form.cleaned_data["framework"],
            agreement_type=form.cleaned_data["agreement_type"],
        )
    except Refused as refusal:
        messages.error(request, refusal.reason)
        return _back(request_id)
    messages.success(
        request, "Approved. An agreement has been drafted from the framework's template."
    )
    return redirect("web:agreement", agreement_id=agreement.pk)


@login_required
@require_POST
def decline(request: HttpRequest, request_id: str) -> HttpResponse:
    _membership, found = _request(request, request_id)
    try:
        actions.decline(by=actor(request), request=found, reasons=request.POST.get("reasons", ""))
    except Refused as refusal:
        messages.error(request, refusal.reason)
    else:
        messages.success(request, "Declined. The requester has been told your reasons.")
    return _back(request_id)


@login_required
@require_POST
def withdraw(request: HttpRequest, request_id: str) -> HttpResponse:
    _membership, found = _request(request, request_id)
    try:
        actions.withdraw(by=actor(request), request=found, reason=request.POST.get("reason", ""))
    except Refused as refusal:
        messages.error(request, refusal.reason)
    else:
        messages.success(request, "Withdrawn.")
    return _back(request_id)


urlpatterns: list[URLPattern] = [
    path("requests/", request_list, name="requests"),
    path("requests/new/", new_request, name="new_request"),
    path("requests/new/check/", confirm_request, name="confirm_request"),
    path("requests/<uuid:request_id>/", request_detail, name="data_request"),
    path("requests/<uuid:request_id>/comment/", comment, name="comment_request"),
    path("requests/<uuid:request_id>/approve/", approve, name="approve_request"),
    path("requests/<uuid:request_id>/decline/", decline, name="decline_request"),
    path("requests/<uuid:request_id>/withdraw/", withdraw, name="withdraw_request"),
]
