"""Subject access as a DPO meets it: find one person by NHS number, UPRN, or name with date of
birth and postcode, in everything their organisation holds in Accord; see every organisation
that received the person's data; download the answer as a workbook for the response.

The search terms are personal data: they travel only in the POST body, never in a URL, and are
not kept. Thin views: the search is ``accord.rights.actions.find_person``.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

from crispy_forms_gds.layout import Field, Fieldset, Size
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.cache import never_cache

from accord.access.transform import escape_formula
from accord.audit.exceptions import NotPermitted, Refused
from accord.rights.actions import SEARCHING_ROLES, confirm_notice, find_person
from accord.rights.erasure import correct_person, erase_person
from accord.rights.models import SubjectChange, SubjectChangeNotice
from accord.rights.search import BadQuery, PersonQuery, SubjectReport

from ..forms import GDSForm
from .common import actor, current_membership, require_role

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PersonForm(GDSForm):
    submit_label = "Search"

    nhs_number = forms.CharField(label="NHS number", required=False, max_length=20)
    uprn = forms.CharField(label="UPRN", required=False, max_length=20)
    family_name = forms.CharField(label="Family name", required=False, max_length=100)
    given_name = forms.CharField(label="Given name (optional)", required=False, max_length=100)
    date_of_birth = forms.DateField(
        label="Date of birth",
        help_text="For example, 27 3 1950 or 1950-03-27",
        required=False,
        input_formats=["%Y-%m-%d", "%d %m %Y", "%d/%m/%Y", "%d-%m-%Y"],
        error_messages={"invalid": "Enter the date of birth as a real date, like 27 3 1950"},
    )
    postcode = forms.CharField(label="Postcode", required=False, max_length=10)

    def layout_fields(self) -> list[Any]:
        return [
            Field.text("nhs_number", field_width=10),
            Field.text("uprn", field_width=20),
            Fieldset(
                Field.text("family_name"),
                Field.text("given_name"),
                Field.text("date_of_birth", field_width=10),
                Field.text("postcode", field_width=10),
                legend="Or by name, date of birth and postcode",
                legend_size=Size.SMALL,
            ),
        ]

    def query(self) -> PersonQuery:
        data = self.cleaned_data
        return PersonQuery(
            nhs_number=data["nhs_number"].strip(),
            uprn=data["uprn"].strip(),
            family_name=data["family_name"].strip(),
            given_name=data["given_name"].strip(),
            date_of_birth=data["date_of_birth"],
            postcode=data["postcode"].strip(),
        )


@never_cache
@login_required
def subject_access(request: HttpRequest) -> HttpResponse:
    """The search form; the report on POST; the workbook when asked for."""
    require_role(request, *SEARCHING_ROLES)
    form = PersonForm(request.POST or None)
    report: SubjectReport | None = None
    if request.method == "POST" and form.is_valid():
        try:
            report = find_person(by=actor(request), query=form.query())
        except BadQuery as problem:
            form.add_error(None, str(problem))
        except NotPermitted as exc:
            raise PermissionDenied(exc.reason) from exc
        else:
            if request.POST.get("download") == "xlsx":
                return _workbook(report)
    change_form = ChangeForm(_fields_of(report)) if report and report.found else None
    return render(
        request,
        "web/rights/search.html",
        {"form": form, "report": report, "change_form": change_form},
    )


def _fields_of(report: SubjectReport | None) -> list[str]:
    """The fields a correction may change: those of the person's records, but Accord's own."""
    own = {
        "submission",
        "source_row",
        "period",
        "organisation",
        "record_id",
        "entity_id",
        "stage",
        "probability",
        "source",
        "source_name",
        "standard",
    }
    if report is None:
        return []
    return sorted({c for h in report.holdings for c in h.rows.columns} - own)


class ChangeForm(GDSForm):
    submit_label = "Make the change"

    change = forms.ChoiceField(
        label="What must change?",
        choices=[
            ("correct", "Correct a field that is wrong (Article 16)"),
            ("erase", "Erase this person's data where the law requires it (Article 17)"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether to correct or erase"},
    )
    field = forms.ChoiceField(label="Field to correct", required=False)
    value = forms.CharField(
        label="Its right value",
        help_text="As the data standard writes it: dates as 1950-03-27",
        required=False,
        max_length=200,
    )
    reason = forms.CharField(
        label="Why",
        help_text="What was wrong and how you know, or which ground for erasure applies",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Say why the data must change"},
    )

    def __init__(self, fields: list[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice: Any = self.fields["field"]
        choice.choices = [("", "Choose a field"), *((f, f) for f in fields)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("change") == "correct":
            if not data.get("field"):
                self.add_error("field", "Choose the field to correct")
            if not str(data.get("value") or "").strip():
                self.add_error("value", "Enter the right value")
        return data

    def layout_fields(self) -> list[Any]:
        return [
            Field.radios("change", legend_size=Size.SMALL, small=True),
            Field.select("field"),
            Field.text("value", field_width=20),
            Field.textarea("reason"),
        ]


@login_required
def subject_change(request: HttpRequest) -> HttpResponse:
    """Correct or erase the person the search found (the search fields come again with it)."""
    require_role(request, *SEARCHING_ROLES)
    if request.method != "POST":
        return redirect("web:subject_access")
    form = PersonForm(request.POST)
    if not form.is_valid():
        return redirect("web:subject_access")
    query = form.query()
    try:
        report = find_person(by=actor(request), query=query)
    except BadQuery:
        return redirect("web:subject_access")
    except NotPermitted as exc:
        raise PermissionDenied(exc.reason) from exc
    change_form = ChangeForm(_fields_of(report), request.POST)
    if change_form.is_valid():
        data = change_form.cleaned_data
        try:
            if data["change"] == "erase":
                change = erase_person(by=actor(request), query=query, reason=data["reason"])
            else:
                change = correct_person(
                    by=actor(request),
                    query=query,
                    values={data["field"]: data["value"]},
                    reason=data["reason"],
                )
        except Refused as refusal:
            change_form.add_error(None, refusal.reason)
        else:
            return redirect("web:subject_change_certificate", change_id=change.pk)
    return render(
        request,
        "web/rights/search.html",
        {"form": form, "report": report, "change_form": change_form},
        status=200,
    )


@login_required
def subject_change_certificate(request: HttpRequest, change_id: uuid.UUID) -> HttpResponse:
    membership = require_role(request, *SEARCHING_ROLES)
    change = SubjectChange.objects.filter(
        pk=change_id, organisation_id=membership.organisation_id
    ).first()
    if change is None:
        raise Http404("There is no such certificate for your organisation.")
    return render(request, "web/rights/certificate.html", {"change": change})


@login_required
def subject_change_notices(request: HttpRequest) -> HttpResponse:
    """Erasures and corrections other organisations asked yours to make in its copies."""
    membership = current_membership(request)
    if request.method == "POST":
        try:
            confirm_notice(by=actor(request), notice_id=request.POST.get("notice"))
        except NotPermitted as exc:
            raise PermissionDenied(exc.reason) from exc
        except (LookupError, ValueError) as exc:
            raise Http404("There is no such notice for your organisation.") from exc
        return redirect("web:subject_change_notices")
    notices = (
        SubjectChangeNotice.objects.filter(recipient_id=membership.organisation_id)
        .select_related("change", "change__organisation")
        .order_by("confirmed_at", "-notified_at")
    )
    return render(request, "web/rights/notices.html", {"notices": notices})


def _workbook(report: SubjectReport) -> HttpResponse:
    from openpyxl import Workbook

    book = Workbook()
    about = book.active
    assert about is not None
    about.title = "About this search"
    for row in (
        ("Organisation", report.organisation),
        ("Searched by", report.method),
        ("Made at", f"{report.made_at:%H:%M, %-d %B %Y}" if report.made_at else ""),
        ("Objects read", report.searched),
        ("Where the person's data is held", len(report.holdings)),
        ("Organisations that received it", len(report.recipients)),
    ):
        about.append(row)
    sent = book.create_sheet("Who received it")
    sent.append(("Organisation", "How", "When", "Purpose", "Agreement", "What"))
    for r in report.recipients:
        when = f"{r.when:%Y-%m-%d %H:%M}" if r.when else ""
        sent.append(
            tuple(
                escape_formula(str(v))
                for v in (r.organisation, r.how, when, r.purpose, r.agreement, r.detail)
            )
        )
    for index, holding in enumerate(report.holdings, start=1):
        sheet = book.create_sheet(f"Held {index}")
        sheet.append((escape_formula(holding.what),))
        sheet.append(tuple(holding.rows.columns))
        for values in holding.rows.iter_rows():
            sheet.append(tuple(escape_formula(str(v)) if v is not None else "" for v in values))
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="subject-access-report.xlsx"'
    return response


urlpatterns: list[URLPattern] = [
    path("organisation/subject-access/", subject_access, name="subject_access"),
    path("organisation/subject-access/change/", subject_change, name="subject_change"),
    path(
        "organisation/subject-changes/<uuid:change_id>/",
        subject_change_certificate,
        name="subject_change_certificate",
    ),
    path(
        "organisation/erasures-and-corrections/",
        subject_change_notices,
        name="subject_change_notices",
    ),
]
