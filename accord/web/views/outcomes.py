"""Outcomes recipients report back under their agreements: for a recipient, what it owes (with
due dates and what is overdue), a form to report, and the reports it has made; for a provider,
the outcomes reported to it, each beside the agreement and the data it gave. The rules are in
``accord.outcomes`` (queries for who owes what when, actions for reporting)."""

from __future__ import annotations

import uuid
from typing import Any

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Button, Field, Fieldset, Layout, Size
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils import timezone

from accord.agreements.models import Agreement
from accord.audit.exceptions import Refused
from accord.organisations.models import Membership
from accord.outcomes import actions, queries
from accord.outcomes.models import OutcomeReport

from ..drafting import DayField
from ..forms import GDSForm
from .common import actor, current_membership, require_role

READING_ROLES = actions.READING_ROLES
EMPTY_ROWS = 3


def _reader(request: HttpRequest) -> Membership:
    return require_role(request, *READING_ROLES)


@login_required
def outcomes(request: HttpRequest) -> HttpResponse:
    membership = _reader(request)
    commitments = queries.commitments_owed_by(membership.organisation_id)
    return render(
        request,
        "web/outcomes/outcomes.html",
        {
            "commitments": commitments,
            "overdue": sum(1 for c in commitments if c.status == queries.OVERDUE),
            "reports": list(queries.reports_by(membership.organisation_id)),
            "can_report": membership.has_role(*actions.REPORTING_ROLES),
            "received": queries.reports_to(membership.organisation_id).exists(),
        },
    )


@login_required
def outcomes_received(request: HttpRequest) -> HttpResponse:
    membership = _reader(request)
    reports = [
        {"report": r, "given": queries.data_given(r, membership.organisation_id)}
        for r in queries.reports_to(membership.organisation_id)
    ]
    owed = queries.commitments_owed_to(membership.organisation_id)
    return render(
        request,
        "web/outcomes/received.html",
        {"reports": reports, "owed": owed},
    )


class ReportForm(GDSForm):
    submit_label = "Send the report"

    period_start = DayField(
        label="First day",
        required=True,
        error_messages={"required": "Enter the first day of the period, like 1/3/2026"},
    )
    period_end = DayField(
        label="Last day",
        required=True,
        error_messages={"required": "Enter the last day of the period, like 31/3/2026"},
    )
    narrative = forms.CharField(
        label="What happened (optional if you give figures)",
        help_text="For example, what the data made possible and anything that held it back",
        widget=forms.Textarea,
        required=False,
        max_length=actions.MAX_NARRATIVE,
    )

    def __init__(
        self, measures: list[str], data: Any = None, *, initial: dict[str, Any] | None = None
    ) -> None:
        self.rows = len(measures) + EMPTY_ROWS
        initial = dict(initial or {})
        for number, measure in enumerate(measures):
            initial.setdefault(f"measure_{number}", measure)
        forms.Form.__init__(self, data, initial=initial)
        for number in range(self.rows):
            self.fields[f"measure_{number}"] = forms.CharField(
                label="What it counts", required=False, max_length=actions.MAX_MEASURE
            )
            self.fields[f"value_{number}"] = forms.IntegerField(
                label="How many",
                required=False,
                min_value=0,
                max_value=actions.MAX_VALUE,
                error_messages={
                    "invalid": "Enter how many as a whole number, like 412",
                    "min_value": "Enter 0 or more: a figure cannot be negative",
                },
                widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"}),
            )
            self.fields[f"note_{number}"] = forms.CharField(
                label="Note (optional)", required=False, max_length=actions.MAX_NOTE
            )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(*self.layout_fields(), Button("submit", self.submit_label))

    def layout_fields(self) -> list[Any]:
        return [
            Fieldset(
                Field.text("period_start", field_width=10),
                Field.text("period_end", field_width=10),
                legend="What period does the report cover?",
                legend_size=Size.MEDIUM,
            ),
            *[
                Fieldset(
                    Field.text(f"measure_{n}"),
                    Field.text(f"value_{n}", field_width=10),
                    Field.text(f"note_{n}"),
                    legend=f"Figure {n + 1}",
                    legend_size=Size.SMALL,
                )
                for n in range(self.rows)
            ],
            Field.textarea("narrative", rows=5),
        ]

    def figures(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        return [
            {
                "measure": data.get(f"measure_{n}") or "",
                "value": data.get(f"value_{n}"),
                "note": data.get(f"note_{n}") or "",
            }
            for n in range(self.rows)
        ]


def _commitment(membership: Membership, agreement_id: uuid.UUID, index: int) -> Any:
    agreement = get_object_or_404(Agreement, pk=agreement_id)
    commitment = queries.commitment_for(membership.organisation_id, agreement, index)
    if commitment is None:
        # Alike whether the agreement or commitment does not exist or is not the member's.
        raise Http404("Your organisation owes no such report.")
    return agreement, commitment


@login_required
def report_outcomes(request: HttpRequest, agreement_id: uuid.UUID, index: int) -> HttpResponse:
    membership = current_membership(request)
    agreement, commitment = _commitment(membership, agreement_id, index)
    if not membership.has_role(*actions.REPORTING_ROLES):
        raise PermissionDenied(
            "Only an analyst, data officer, senior manager or data protection officer of "
            f"{membership.organisation.name} can report outcomes."
        )
    occurrence = commitment.next
    initial: dict[str, Any] = {}
    if occurrence is not None:
        initial = {
            "period_start": occurrence.due.period_start,
            "period_end": min(occurrence.due.period_end, timezone.localdate()),
        }
    form = ReportForm(queries.measures_for(agreement), request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            report = actions.report_outcomes(
                by=actor(request),
                agreement=agreement,
                commitment_index=index,
                period=(form.cleaned_data["period_start"], form.cleaned_data["period_end"]),
                figures=form.figures(),
                narrative=form.cleaned_data["narrative"],
            )
        except Refused as refusal:  # NotPermitted is a Refused
            form.add_error(None, refusal.reason)
        else:
            names = commitment.owed_to_names or "the provider"
            messages.success(request, f"Your report has been sent to {names}.")
            return redirect("web:outcome_report", report_id=report.pk)
    return render(
        request,
        "web/outcomes/report.html",
        {
            "form": form,
            "heading": f"Report: {commitment.what}",
            "commitment": commitment,
            "occurrence": occurrence,
            "active": agreement.status == "active",
        },
    )


@login_required
def outcome_report(request: HttpRequest, report_id: uuid.UUID) -> HttpResponse:
    membership = _reader(request)
    try:
        report = queries.report_for(membership.organisation_id, report_id)
    except OutcomeReport.DoesNotExist as exc:
        raise Http404("There is no such outcome report for your organisation.") from exc
    provider = report.organisation_id != membership.organisation_id
    return render(
        request,
        "web/outcomes/report_detail.html",
        {
            "report": report,
            "provider": provider,
            "reported_to": list(report.reported_to.order_by("name")),
            "given": queries.data_given(report, membership.organisation_id) if provider else [],
        },
    )


urlpatterns: list[URLPattern] = [
    path("outcomes/", outcomes, name="outcomes"),
    path("outcomes/received/", outcomes_received, name="outcomes_received"),
    path(
        "outcomes/report/<uuid:agreement_id>/<int:index>/",
        report_outcomes,
        name="report_outcomes",
    ),
    path("outcomes/<uuid:report_id>/", outcome_report, name="outcome_report"),
]
