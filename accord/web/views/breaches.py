"""Breaches: the list for an organisation (with overdue flags), reporting a suspected breach
against an agreement, the breach's page with its clocks and the one-click suspension, and a
form for each step. The rules are in ``accord.breaches``. Only parties to the agreement see its
breaches (others get 404); of them, only members with a data-protection role (403 otherwise)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from crispy_forms_gds.layout import Field, Size
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_POST

from accord.agreements.models import Agreement
from accord.audit.exceptions import Refused
from accord.breaches import actions, deadlines, queries
from accord.breaches.enums import BREACH_ROLES, REPORTING_ROLES, Risk
from accord.breaches.models import Breach
from accord.organisations.models import Membership

from ..forms import GDSForm
from .common import actor, current_membership

MOMENT = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2})[:.](\d{2}))?\s*$")


class MomentField(forms.CharField):
    """A date and time typed as 21/11/2026 14:30 (the time may be left off: midnight)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "For example, 21/11/2026 14:30")
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return f"{timezone.localtime(value):%-d/%-m/%Y %H:%M}"
        return value

    def clean(self, value: Any) -> dt.datetime | None:
        text = str(super().clean(value) or "").strip()
        if not text:
            return None
        match = MOMENT.match(text)
        try:
            if match is None:
                raise ValueError
            day, month, year = (int(g) for g in match.groups()[:3])
            hour, minute = (int(g) if g else 0 for g in match.groups()[3:])
            moment = dt.datetime(year, month, day, hour, minute)
        except ValueError:
            raise forms.ValidationError(
                f"'{text}' is not a real date and time. Write it like 21/11/2026 14:30."
            ) from None
        return timezone.make_aware(moment)


def _breach_reader(request: HttpRequest) -> Membership:
    membership = current_membership(request)
    if not membership.has_role(*BREACH_ROLES):
        raise PermissionDenied(
            "Only a data protection officer, senior information risk owner, information asset "
            "owner, Caldicott Guardian, senior manager or chief executive of "
            f"{membership.organisation.name} can see breaches."
        )
    return membership


def _breach(request: HttpRequest, breach_id: uuid.UUID) -> tuple[Membership, Breach]:
    """The breach, if the member's organisation is party to its agreement (404 otherwise, alike
    whether it exists), and the member holds a data-protection role (403 otherwise)."""
    membership = current_membership(request)
    try:
        breach = queries.breach_for(membership.organisation_id, breach_id)
    except Breach.DoesNotExist as exc:
        raise Http404("There is no such breach under your organisation's agreements.") from exc
    _breach_reader(request)
    return membership, breach


@login_required
def breaches(request: HttpRequest) -> HttpResponse:
    membership = _breach_reader(request)
    now = timezone.now()
    rows = [
        {"breach": b, "flags": deadlines.flags(b, now), "clocks": deadlines.clocks(b, now)}
        for b in queries.breaches_for(membership.organisation_id)
    ]
    return render(
        request,
        "web/breaches/list.html",
        {
            "rows": rows,
            "flagged": sum(1 for r in rows if r["flags"]),
            "agreements": queries.reportable_agreements(membership.organisation_id),
        },
    )


class ReportForm(GDSForm):
    submit_label = "Report the breach"

    what_happened = forms.CharField(
        label="What happened?",
        help_text="Say what was disclosed, lost or changed, how, and to whom, as far as you know",
        widget=forms.Textarea,
        max_length=actions.MAX_TEXT,
        error_messages={"required": "Say what happened"},
    )
    discovered_at = MomentField(
        label="When was it discovered?",
        error_messages={"required": "Enter when the breach was discovered, like 21/11/2026 14:30"},
    )
    occurred_at = MomentField(label="When did it happen, if known? (optional)", required=False)
    involved = forms.MultipleChoiceField(
        label="Which of the agreement's data does it involve?",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose which of the agreement's data the breach involves"},
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["involved"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = choices

    def layout_fields(self) -> list[Any]:
        return [
            Field.textarea("what_happened", rows=6),
            Field.text("discovered_at", field_width=20),
            Field.text("occurred_at", field_width=20),
            Field.checkboxes("involved", legend_size=Size.SMALL, small=True),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        now = timezone.now()
        discovered, occurred = data.get("discovered_at"), data.get("occurred_at")
        if discovered and discovered > now:
            self.add_error("discovered_at", "When it was discovered cannot be in the future")
        if occurred and occurred > now:
            self.add_error("occurred_at", "When it happened cannot be in the future")
        elif occurred and discovered and occurred > discovered:
            self.add_error(
                "occurred_at", "When it happened must be on or before when it was discovered"
            )
        return data


@login_required
def report_breach(request: HttpRequest, agreement_id: uuid.UUID) -> HttpResponse:
    membership = current_membership(request)
    try:
        agreement = queries.agreement_for(membership.organisation_id, agreement_id)
    except Agreement.DoesNotExist as exc:
        raise Http404("Your organisation is not a party to such an agreement.") from exc
    if not membership.has_role(*REPORTING_ROLES):
        raise PermissionDenied(
            f"Only someone at {membership.organisation.name} who handles the shared data or "
            "is accountable for it can report a breach here. Tell your data protection officer."
        )
    posted = request.POST if request.method == "POST" else None
    form = ReportForm(posted, choices=queries.data_choices(agreement))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            breach = actions.report(
                by=actor(request),
                agreement=agreement,
                what_happened=data["what_happened"],
                discovered_at=data["discovered_at"],
                occurred_at=data["occurred_at"],
                data=data["involved"],
            )
        except Refused as refusal:
            form.add_error(None, refusal.reason)
        else:
            messages.success(
                request,
                f"Breach {breach.reference} reported. Every party's data protection officer has "
                "been told.",
            )
            if membership.has_role(*BREACH_ROLES):
                return redirect("web:breach", breach_id=breach.pk)
            return redirect("web:agreement", agreement_id=agreement.pk)
    return render(
        request,
        "web/breaches/report.html",
        {
            "form": form,
            "heading": "Report a suspected breach",
            "agreement": agreement,
            "hours": deadlines.partner_hours(agreement, _document(agreement))[0],
        },
    )


def _document(agreement: Agreement) -> Any:
    from accord.agreements.actions import document_of

    return document_of(agreement)


@login_required
def breach(request: HttpRequest, breach_id: uuid.UUID) -> HttpResponse:
    _, found = _breach(request, breach_id)
    now = timezone.now()
    return render(
        request,
        "web/breaches/breach.html",
        {
            "breach": found,
            "clocks": deadlines.clocks(found, now),
            "flags": deadlines.flags(found, now),
            "data": queries.data_labels(found),
            "parties": queries.parties(found.agreement),
            "suspend_reason": actions.suspension_reason(found),
            "steps": _steps(found),
        },
    )


@login_required
@require_POST
def suspend_from_breach(request: HttpRequest, breach_id: uuid.UUID) -> HttpResponse:
    _, found = _breach(request, breach_id)
    reason = request.POST.get("reason", "").strip() or actions.suspension_reason(found)
    try:
        actions.suspend_agreement(by=actor(request), breach=found, reason=reason)
    except Refused as refusal:
        messages.error(request, refusal.reason)
    else:
        messages.success(
            request,
            f"“{found.agreement.title}” is suspended: nothing is shared under it until it is "
            "resumed. Every party has been told.",
        )
    return redirect("web:breach", breach_id=found.pk)


# The steps ------------------------------------------------------------------------------------


class ContainmentForm(GDSForm):
    submit_label = "Record containment"
    containment = forms.CharField(
        label="What was done to contain it?",
        help_text="For example, the email recalled and the recipient's copy confirmed deleted",
        widget=forms.Textarea,
        max_length=actions.MAX_TEXT,
        error_messages={"required": "Say what was done to contain the breach"},
    )
    contained_at = MomentField(
        label="When was it contained?",
        error_messages={"required": "Enter when it was contained, like 21/11/2026 14:30"},
    )

    def layout_fields(self) -> list[Any]:
        return [Field.textarea("containment", rows=5), Field.text("contained_at", field_width=20)]


class AssessmentForm(GDSForm):
    submit_label = "Record the assessment"
    risk = forms.ChoiceField(
        label="How likely is it to result in a risk to the people whose data it was?",
        choices=Risk.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how likely the breach is to result in a risk"},
    )
    reasoning = forms.CharField(
        label="Why?",
        help_text="What data, how many people, how sensitive, who has it now, what could follow",
        widget=forms.Textarea,
        max_length=actions.MAX_TEXT,
        error_messages={"required": "Say why you judged the risk that way"},
    )

    def layout_fields(self) -> list[Any]:
        return [Field.radios("risk", legend_size=Size.SMALL), Field.textarea("reasoning", rows=5)]


TOLD = [("yes", "Yes"), ("no", "No")]


class _ToldForm(GDSForm):
    """Whether someone was told of the breach: if so when and how, if not why not."""

    submit_label = "Record the decision"
    detail = ""  # the field that says how they were told
    missing: tuple[str, str, str] = ("", "", "")  # no moment, no detail, no reason

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        no_moment, no_detail, no_reason = self.missing
        if data.get("told") == "yes":
            if not data.get("told_at") and "told_at" not in self.errors:
                self.add_error("told_at", no_moment)
            if not str(data.get(self.detail) or "").strip():
                self.add_error(self.detail, no_detail)
        elif data.get("told") == "no" and not str(data.get("reason") or "").strip():
            self.add_error("reason", no_reason)
        return data


class IcoForm(_ToldForm):
    detail = "reference"
    missing = (
        "Enter when the ICO was told, like 21/11/2026 14:30",
        "Enter the ICO's reference for the report",
        "Say why the ICO need not be told",
    )

    told = forms.ChoiceField(
        label="Has the ICO been told?",
        choices=TOLD,
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the ICO has been told"},
    )
    told_at = MomentField(label="When was it told?", required=False)
    reference = forms.CharField(
        label="The ICO's reference", required=False, max_length=actions.MAX_REFERENCE
    )
    reason = forms.CharField(
        label="If not, why need it not be told?",
        help_text="Only when the breach is unlikely to result in a risk to people",
        widget=forms.Textarea,
        required=False,
        max_length=actions.MAX_TEXT,
    )

    def layout_fields(self) -> list[Any]:
        return [
            Field.radios("told", legend_size=Size.SMALL, inline=True),
            Field.text("told_at", field_width=20),
            Field.text("reference", field_width=20),
            Field.textarea("reason", rows=4),
        ]


class SubjectsForm(_ToldForm):
    detail = "how"
    missing = (
        "Enter when they were told, like 21/11/2026 14:30",
        "Say how the people were told, for example by letter",
        "Say why the people affected need not be told",
    )

    told = forms.ChoiceField(
        label="Have the people whose data it was been told?",
        choices=TOLD,
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the people affected have been told"},
    )
    told_at = MomentField(label="When were they told?", required=False)
    how = forms.CharField(
        label="How were they told?",
        widget=forms.Textarea,
        required=False,
        max_length=actions.MAX_TEXT,
    )
    reason = forms.CharField(
        label="If not, why not?",
        help_text="They must be told when the risk is high",
        widget=forms.Textarea,
        required=False,
        max_length=actions.MAX_TEXT,
    )

    def layout_fields(self) -> list[Any]:
        return [
            Field.radios("told", legend_size=Size.SMALL, inline=True),
            Field.text("told_at", field_width=20),
            Field.textarea("how", rows=3),
            Field.textarea("reason", rows=3),
        ]


class ClosureForm(GDSForm):
    submit_label = "Close the breach"
    lessons = forms.CharField(
        label="What was learned, and what will change?",
        widget=forms.Textarea,
        max_length=actions.MAX_TEXT,
        error_messages={"required": "Say what was learned and what will change"},
    )

    def layout_fields(self) -> list[Any]:
        return [Field.textarea("lessons", rows=6)]


STEPS: dict[str, tuple[str, type[GDSForm], str]] = {
    "containment": ("Record containment", ContainmentForm, "contain"),
    "assessment": ("Assess the risk to people", AssessmentForm, "assess"),
    "ico": ("Tell the ICO, or record why not", IcoForm, "tell_ico"),
    "subjects": ("Tell the people affected, or record why not", SubjectsForm, "tell_subjects"),
    "closure": ("Close the breach", ClosureForm, "close"),
}


def _steps(found: Breach) -> list[dict[str, Any]]:
    from accord.breaches import transitions

    done = {
        "containment": found.contained_at is not None,
        "assessment": found.assessed_at is not None,
        "ico": found.ico_told is not None,
        "subjects": found.subjects_told is not None,
        "closure": found.closed_at is not None,
    }
    rows = []
    for slug, (title, _, event) in STEPS.items():
        can = transitions.can(found.status, event) or (
            slug == "assessment" and transitions.can(found.status, "reassess")
        )
        if done[slug] and slug != "assessment":
            can = False
        rows.append({"slug": slug, "title": title, "done": done[slug], "can": can})
    return rows


def _apply(request: HttpRequest, found: Breach, slug: str, data: dict[str, Any]) -> Breach:
    by = actor(request)
    if slug == "containment":
        return actions.record_containment(
            by=by, breach=found, containment=data["containment"], contained_at=data["contained_at"]
        )
    if slug == "assessment":
        return actions.record_assessment(
            by=by, breach=found, risk=data["risk"], reasoning=data["reasoning"]
        )
    if slug == "ico":
        return actions.record_ico(
            by=by,
            breach=found,
            told=data["told"] == "yes",
            told_at=data.get("told_at"),
            reference=data.get("reference") or "",
            reason=data.get("reason") or "",
        )
    if slug == "subjects":
        return actions.record_subjects(
            by=by,
            breach=found,
            told=data["told"] == "yes",
            told_at=data.get("told_at"),
            how=data.get("how") or "",
            reason=data.get("reason") or "",
        )
    return actions.close(by=by, breach=found, lessons=data["lessons"])


@login_required
def breach_step(request: HttpRequest, breach_id: uuid.UUID, step: str) -> HttpResponse:
    if step not in STEPS:
        raise Http404("There is no such step.")
    _, found = _breach(request, breach_id)
    title, form_class, _ = STEPS[step]
    initial: dict[str, Any] = {}
    if step == "assessment" and found.risk:
        initial = {"risk": found.risk, "reasoning": found.risk_reasoning}
    form = form_class(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            _apply(request, found, step, form.cleaned_data)
        except Refused as refusal:
            form.add_error(None, refusal.reason)
        else:
            messages.success(request, f"{title}: recorded.")
            return redirect("web:breach", breach_id=found.pk)
    return render(
        request,
        "web/breaches/step.html",
        {"form": form, "heading": title, "breach": found, "step": step},
    )


urlpatterns: list[URLPattern] = [
    path("breaches/", breaches, name="breaches"),
    path("breaches/report/<uuid:agreement_id>/", report_breach, name="report_breach"),
    path("breaches/<uuid:breach_id>/", breach, name="breach"),
    path("breaches/<uuid:breach_id>/suspend/", suspend_from_breach, name="breach_suspend"),
    path("breaches/<uuid:breach_id>/<slug:step>/", breach_step, name="breach_step"),
]
