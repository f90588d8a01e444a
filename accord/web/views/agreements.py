"""Agreements as their parties see them: the list, each agreement's page with its findings,
signatures and history, starting one from a framework's template, the guided drafting pages,
and the lifecycle buttons (send for signature, sign, make active, suspend, resume, end, amend).

Views are thin: every change goes through ``accord.agreements.actions``, which checks who may
act and writes the audit event; a refusal is shown on the page in plain English.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crispy_forms_gds.layout import Field, Size
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_POST

from accord.agreements import actions, frameworks, lifecycle, queries, rules
from accord.agreements.diff import humanise
from accord.agreements.diff import render as in_words
from accord.agreements.enums import DECIDING_ROLES, DRAFTING_ROLES
from accord.agreements.models import Agreement, Framework, FrameworkMember
from accord.agreements.vocabularies import load
from accord.audit.exceptions import Refused
from accord.audit.labels import action_label
from accord.organisations.models import Membership, Organisation
from accord.standards.exceptions import StandardNotFound
from accord.standards.queries import get_standard, latest_versions

from .. import drafting
from ..forms import GDSForm
from .common import actor, current_membership, require_role

STATUS_TAGS = {
    "draft": "grey",
    "in_review": "blue",
    "approved": "turquoise",
    "active": "green",
    "suspended": "orange",
    "expired": "grey",
    "terminated": "red",
    "superseded": "grey",
}
REVIEW_LABELS = {"due": "Review due", "overdue": "Review overdue"}


def _agreement(request: HttpRequest, agreement_id: str) -> tuple[Membership, Agreement]:
    membership = current_membership(request)
    return membership, queries.agreement_for(membership.organisation_id, agreement_id)


def _others(agreement: Agreement, organisation_id: int) -> list[str]:
    return sorted(
        p.organisation.name for p in agreement.parties.all() if p.organisation_id != organisation_id
    )


@login_required
def agreement_list(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    today = timezone.localdate()
    rows = []
    for agreement in queries.agreements_of(membership.organisation_id):
        document = actions.document_of(agreement)
        review = lifecycle.review_state(document.term.review_date if document.term else None, today)
        rows.append(
            {
                "agreement": agreement,
                "others": _others(agreement, membership.organisation_id),
                "tag": STATUS_TAGS.get(agreement.status, "grey"),
                "review": REVIEW_LABELS.get(review, "")
                if agreement.status in ("active", "suspended")
                else "",
            }
        )
    return render(
        request,
        "web/agreements/list.html",
        {"rows": rows, "can_draft": membership.has_role(*DRAFTING_ROLES)},
    )


# Starting one ---------------------------------------------------------------------------------


class NewAgreementForm(GDSForm):
    submit_label = "Start the draft"

    framework = forms.ModelChoiceField(
        queryset=Framework.objects.none(),
        label="Which framework is it under?",
        empty_label="Choose a framework",
        error_messages={"required": "Choose the framework the agreement is under"},
    )
    agreement_type = forms.ChoiceField(
        label="What kind of agreement is it?",
        choices=[(k, f"{t.title}: {t.summary}") for k, t in frameworks.TEMPLATES.items()],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a kind of agreement"},
    )
    other = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        label="Which organisation is it with?",
        empty_label="Choose an organisation",
        error_messages={"required": "Choose the other organisation"},
    )
    direction = forms.ChoiceField(
        label="Who provides the data?",
        choices=[("provide", "We provide it"), ("receive", "They provide it to us")],
        widget=forms.RadioSelect,
        error_messages={"required": "Say who provides the data"},
    )
    title = forms.CharField(label="What is the agreement called?", max_length=300)
    standards = forms.MultipleChoiceField(
        label="Which data standards does it share?",
        help_text="Fields are filled in from each standard's columns",
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, membership: Membership, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        mine = queries.frameworks_of(membership.organisation_id)
        fw_field: Any = self.fields["framework"]
        fw_field.queryset = Framework.objects.filter(pk__in=[f.pk for f in mine])
        other_field: Any = self.fields["other"]
        other_field.queryset = Organisation.objects.filter(
            pk__in=FrameworkMember.objects.filter(framework__in=mine).values("organisation_id"),
            is_active=True,
        ).exclude(pk=membership.organisation_id)
        standards_field: Any = self.fields["standards"]
        standards_field.choices = [(s.slug, s.title) for s in latest_versions()]

    def layout_fields(self) -> list[Any]:
        return [
            Field.select("framework"),
            Field.radios("agreement_type", legend_size=Size.SMALL, small=True),
            Field.select("other"),
            Field.radios("direction", legend_size=Size.SMALL, small=True, inline=True),
            Field.text("title"),
            Field.checkboxes("standards", legend_size=Size.SMALL, small=True),
        ]


@login_required
def new_agreement(request: HttpRequest) -> HttpResponse:
    membership = require_role(request, *DRAFTING_ROLES)
    form = NewAgreementForm(membership, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ours, theirs = membership.organisation, data["other"]
        provider, recipient = (ours, theirs) if data["direction"] == "provide" else (theirs, ours)
        try:
            standards = [get_standard(slug) for slug in data["standards"]]
            agreement = actions.draft_from_framework(
                by=actor(request),
                framework=data["framework"],
                agreement_type=data["agreement_type"],
                provider=provider,
                recipient=recipient,
                title=data["title"],
                standards=standards,
            )
        except StandardNotFound as missing:
            form.add_error("standards", str(missing))
        except Refused as refusal:
            form.add_error(None, refusal.reason)
        else:
            messages.success(request, "Draft started from the framework's template.")
            return redirect("web:draft_step", agreement_id=agreement.pk, step="about")
    return render(
        request,
        "web/form_page.html",
        {"form": form, "heading": "Start an agreement from a framework"},
    )


# One agreement --------------------------------------------------------------------------------


def _signing_roles(membership: Membership, agreement: Agreement) -> list[tuple[str, str]]:
    """Roles this member holds and could sign in, not yet signed for their organisation."""
    signed = set(
        agreement.current.signatures.filter(organisation=membership.organisation).values_list(
            "role", flat=True
        )
    )
    vocab = load("signatory_roles")
    return [
        (role, vocab.get(role).label)
        for role in membership.roles
        if role in actions.SIGNATORY_ROLES and role not in signed
    ]


@login_required
def agreement_detail(request: HttpRequest, agreement_id: str) -> HttpResponse:
    membership, agreement = _agreement(request, agreement_id)
    document = actions.document_of(agreement)
    today = timezone.localdate()
    findings = rules.check(document, today=today)
    steps = drafting.steps_for(document)
    step_rows = [
        {"step": step, "count": len(rules.blockers(drafting.findings_for(step, findings)))}
        for step in steps
    ]
    signing = [f for f in rules.blockers(findings) if f.code in rules.SIGNING_CODES]
    drafting_findings = [
        (f, drafting.step_of(f, steps)) for f in findings if f.code not in rules.SIGNING_CODES
    ]
    can_draft = membership.has_role(*DRAFTING_ROLES)
    can_decide = membership.has_role(*DECIDING_ROLES)
    party_names = {p.party_id: p.organisation.name for p in agreement.parties.all()}
    signatures = [
        {
            "party": party_names.get(s.party_id, s.party_id),
            "role": load("signatory_roles").get(s.role).label,
            "name": s.name,
            "date": s.signed_date,
        }
        for s in document.signatories
    ]
    events = [{"event": e, "label": action_label(e.action)} for e in queries.history(agreement)]
    amendment = agreement.amendments.exclude(status__in=lifecycle.ENDED).first()
    return render(
        request,
        "web/agreements/detail.html",
        {
            "agreement": agreement,
            "document": document,
            "tag": STATUS_TAGS.get(agreement.status, "grey"),
            "status_label": agreement.status.replace("_", " ").capitalize(),
            "review": REVIEW_LABELS.get(
                lifecycle.review_state(document.term.review_date if document.term else None, today),
                "",
            ),
            "step_rows": step_rows,
            "drafting_findings": drafting_findings,
            "drafting_blockers": len(rules.drafting_blockers(findings)),
            "signing": signing,
            "signatures": signatures,
            "signing_roles": _signing_roles(membership, agreement)
            if agreement.status == "in_review"
            else [],
            "can_draft": can_draft,
            "can_decide": can_decide,
            "parties": sorted(party_names.values()),
            "events": events,
            "amendment": amendment,
            "amendment_status": amendment.status.replace("_", " ") if amendment else "",
            "agreement_type": load("agreement_types").get(agreement.agreement_type).label,
        },
    )


# Drafting -------------------------------------------------------------------------------------


@login_required
def draft_step(request: HttpRequest, agreement_id: str, step: str) -> HttpResponse:
    _membership, agreement = _agreement(request, agreement_id)
    require_role(request, *DRAFTING_ROLES)
    if agreement.status != "draft":
        messages.error(request, "Only a draft can be edited. Start an amendment to change it.")
        return redirect("web:agreement", agreement_id=agreement.pk)
    document = actions.document_of(agreement)
    found = drafting.step_named(document, step)
    if found is None:
        raise Http404("There is no such question in this agreement.")
    form = found.form(document, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.save_draft(
                by=actor(request), agreement=agreement, document=form.apply(document)
            )
        except Refused as refusal:
            form.add_error(None, refusal.reason)
        else:
            following = drafting.next_step(document, step)
            if following is None:
                return redirect("web:agreement", agreement_id=agreement.pk)
            return redirect("web:draft_step", agreement_id=agreement.pk, step=following.slug)
    document = actions.document_of(agreement)
    findings = drafting.findings_for(found, rules.check(document, today=timezone.localdate()))
    steps = drafting.steps_for(document)
    return render(
        request,
        "web/agreements/step.html",
        {
            "agreement": agreement,
            "form": form,
            "step": found,
            "steps": steps,
            "number": steps.index(found) + 1,
            "blockers": rules.blockers(findings),
            "warnings": rules.warnings(findings),
        },
    )


# Lifecycle buttons ----------------------------------------------------------------------------


def _lifecycle(
    request: HttpRequest,
    agreement_id: str,
    do: Callable[[Agreement], object],
    done: str,
) -> HttpResponse:
    _membership, agreement = _agreement(request, agreement_id)
    try:
        result = do(agreement)
    except Refused as refusal:
        messages.error(request, refusal.reason)
        return redirect("web:agreement", agreement_id=agreement.pk)
    messages.success(request, done)
    target = result if isinstance(result, Agreement) else agreement
    return redirect("web:agreement", agreement_id=target.pk)


def _button(do: Callable[..., object], done: str, field: str = "") -> Callable[..., HttpResponse]:
    """A lifecycle button's view: POST only, calling ``do`` with the reason or role posted in
    ``field`` (if any); the action checks who may press it."""

    @login_required
    @require_POST
    def view(request: HttpRequest, agreement_id: str) -> HttpResponse:
        posted = {field: request.POST.get(field, "")} if field else {}
        return _lifecycle(
            request, agreement_id, lambda a: do(by=actor(request), agreement=a, **posted), done
        )

    return view


submit = _button(actions.submit, "Sent to every party for signature.")
sign = _button(actions.sign, "Signed.", "role")
activate = _button(actions.activate, "The agreement is in force.")
suspend = _button(
    actions.suspend, "Suspended: nothing may be shared under it until it is resumed.", "reason"
)
resume = _button(actions.resume, "Resumed: sharing is allowed again.")
terminate = _button(actions.terminate, "The agreement has ended.", "reason")
return_for_changes = _button(
    actions.return_for_changes,
    "Returned to draft. Signatures given so far no longer count.",
    "reason",
)
amend = _button(
    actions.start_amendment,
    "Amendment started. The agreement stays in force until the amendment is.",
)


# Frameworks -----------------------------------------------------------------------------------


@login_required
def framework_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/agreements/frameworks.html",
        {"frameworks": Framework.objects.prefetch_related("members").order_by("name")},
    )


@login_required
def framework_detail(request: HttpRequest, slug: str) -> HttpResponse:
    framework = get_object_or_404(Framework, slug=slug)
    clauses = actions.clauses_of(framework)
    durations = queries.durations(framework)
    longest = max(durations.days, default=0) or 1
    prohibited = load("prohibited_uses")
    return render(
        request,
        "web/agreements/framework.html",
        {
            "framework": framework,
            "clauses": clauses,
            "retention": in_words(clauses.default_retention, "period"),
            "security": [
                (humanise(key).capitalize(), in_words(value, key))
                for key, value in clauses.security.model_dump(mode="json").items()
                if value not in (None, "", [])
            ],
            "prohibited": [prohibited.get(c).label for c in clauses.prohibited_uses],
            "templates": [frameworks.TEMPLATES[t] for t in framework.template_types],
            "members": queries.framework_members(framework),
            "durations": durations,
            "bars": [
                {"days": d, "percent": max(2, round(100 * d / longest))} for d in durations.days
            ],
            "in_force": framework.agreements.filter(status="active").count(),
        },
    )


urlpatterns: list[URLPattern] = [
    path("agreements/", agreement_list, name="agreements"),
    path("agreements/new/", new_agreement, name="new_agreement"),
    path("agreements/<uuid:agreement_id>/", agreement_detail, name="agreement"),
    path("agreements/<uuid:agreement_id>/draft/<slug:step>/", draft_step, name="draft_step"),
    path("agreements/<uuid:agreement_id>/submit/", submit, name="submit_agreement"),
    path("agreements/<uuid:agreement_id>/sign/", sign, name="sign_agreement"),
    path("agreements/<uuid:agreement_id>/activate/", activate, name="activate_agreement"),
    path("agreements/<uuid:agreement_id>/suspend/", suspend, name="suspend_agreement"),
    path("agreements/<uuid:agreement_id>/resume/", resume, name="resume_agreement"),
    path("agreements/<uuid:agreement_id>/terminate/", terminate, name="terminate_agreement"),
    path(
        "agreements/<uuid:agreement_id>/return/",
        return_for_changes,
        name="return_agreement",
    ),
    path("agreements/<uuid:agreement_id>/amend/", amend, name="amend_agreement"),
    path("frameworks/", framework_list, name="frameworks"),
    path("frameworks/<slug:slug>/", framework_detail, name="framework"),
]
