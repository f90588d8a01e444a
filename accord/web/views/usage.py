"""Who used our data (for providers) and our access history (for recipients): the audit log's
access decisions and extract downloads, read back through ``accord.access.usage``. Filters are
a GET form; the same filters give a CSV download of every matching row.

Also the organisation's audit bundle (its own events and every signed checkpoint, as JSON) for
checking offline with ``accord audit verify --bundle FILE``.
"""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.layout import Field, Size
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone

from accord.access import usage
from accord.audit import bundle
from accord.audit.actions import record
from accord.organisations.models import Membership

from ..drafting import DayField
from ..forms import GDSForm
from .common import actor, require_role
from .home import AUDIT_READERS

PAGE_SIZE = 50

WHO_CHOICES = [
    ("others", "Other organisations and Accord's tasks"),
    ("ours", "Our own organisation"),
    ("all", "Everyone"),
]
OUTCOME_CHOICES = [("", "Any outcome"), ("permitted", "Permitted"), ("refused", "Refused")]


class _UsageFilterForm(GDSForm):
    submit_label = "Filter"

    organisation = forms.ChoiceField(required=False)
    agreement = forms.ChoiceField(label="Agreement", required=False)
    outcome = forms.ChoiceField(label="Outcome", required=False, choices=OUTCOME_CHOICES)
    action = forms.ChoiceField(
        label="Kind of use",
        required=False,
        choices=[("", "Any kind of use"), *usage.ACTION_CHOICES],
    )
    since = DayField(label="From date")
    until = DayField(label="To date")

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        org = membership.organisation_id
        organisation: Any = self.fields["organisation"]
        organisation.choices = [("", self.any_organisation), *self.organisation_choices(org)]
        agreement: Any = self.fields["agreement"]
        agreement.choices = [("", "Any agreement"), *usage.agreement_choices(org)]

    any_organisation = "Any organisation"

    def organisation_choices(self, organisation_id: int) -> list[tuple[str, str]]:
        raise NotImplementedError

    def layout_fields(self) -> list[Any]:
        return [
            Field.select("organisation"),
            Field.select("agreement"),
            Field.select("outcome"),
            Field.select("action"),
            Field.text("since", field_width=10),
            Field.text("until", field_width=10),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The to date must be the same as or after the from date")
        return data

    def filters(self) -> usage.UsageFilters:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return usage.UsageFilters(
            who=data.get("who") or "others",
            organisation=data.get("organisation") or "",
            agreement=data.get("agreement") or "",
            outcome=data.get("outcome") or "",
            action=data.get("action") or "",
            since=data.get("since"),
            until=data.get("until"),
        )


class UsesFilterForm(_UsageFilterForm):
    who = forms.ChoiceField(
        label="Whose uses",
        required=False,
        choices=WHO_CHOICES,
        initial="others",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].label = "Reading organisation"

    def organisation_choices(self, organisation_id: int) -> list[tuple[str, str]]:
        return usage.reader_choices(organisation_id)

    def layout_fields(self) -> list[Any]:
        return [
            Field.radios("who", legend_size=Size.SMALL, small=True),
            *super().layout_fields(),
        ]


class HistoryFilterForm(_UsageFilterForm):
    any_organisation = "Any organisation's data"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].label = "Whose data"

    def organisation_choices(self, organisation_id: int) -> list[tuple[str, str]]:
        return usage.provider_choices(organisation_id)


def _page(
    request: HttpRequest,
    *,
    membership: Membership,
    form: _UsageFilterForm,
    history: bool,
) -> HttpResponseBase:
    organisation = membership.organisation
    filters = form.filters()
    found = (
        usage.access_history_of(organisation.pk, filters)
        if history
        else usage.uses_of_data_of(organisation.pk, filters)
    )
    # A download with filters that did not make sense would otherwise hold every row.
    if request.GET.get("format") == "csv" and not form.errors:
        record(
            by=actor(request),
            action=usage.DOWNLOADED_ACTION,
            target=f"organisation:{organisation.pk}",
            details={
                "page": "history" if history else "uses",
                **{k: str(v) for k, v in vars(filters).items() if v},
            },
        )
        kind = "access-history" if history else "data-uses"
        response = StreamingHttpResponse(usage.csv_lines(found), content_type="text/csv")
        response["Content-Disposition"] = (
            f'attachment; filename="accord-{kind}-{organisation.pk}-'
            f'{timezone.localdate():%Y%m%d}.csv"'
        )
        return response
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        "web/usage/history.html" if history else "web/usage/uses.html",
        {
            "form": form,
            "page": page,
            "page_range": page.paginator.get_elided_page_range(page.number),
            "rows": usage.rows_of(page.object_list),
            "summary": usage.summary_of(found, by="provider" if history else "reader"),
            "organisation": organisation,
            "query": query.urlencode(),
            "history": history,
        },
    )


@login_required
def uses(request: HttpRequest) -> HttpResponseBase:
    """Who used our data: the organisation's data read (or refused) by others."""
    membership = require_role(request, *usage.USAGE_READERS)
    form = UsesFilterForm(request.GET or None, membership=membership)
    return _page(request, membership=membership, form=form, history=False)


@login_required
def history(request: HttpRequest) -> HttpResponseBase:
    """Our access history: the organisation's reads (and refusals) of shared data."""
    membership = require_role(request, *usage.HISTORY_READERS)
    form = HistoryFilterForm(request.GET or None, membership=membership)
    return _page(request, membership=membership, form=form, history=True)


@login_required
def audit_bundle(request: HttpRequest) -> HttpResponseBase:
    """The organisation's own audit events and every signed checkpoint, as one JSON file."""
    membership = require_role(request, *AUDIT_READERS)
    organisation = membership.organisation
    record(
        by=actor(request),
        action=bundle.DOWNLOADED_ACTION,
        target=f"organisation:{organisation.pk}",
        details={"via": "web"},
    )
    response = StreamingHttpResponse(
        bundle.bundle_json_chunks(organisation.pk), content_type="application/json"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{bundle.filename_for(organisation.pk)}"'
    )
    return response


urlpatterns: list[URLPattern] = [
    path("usage/", uses, name="usage"),
    path("usage/history/", history, name="usage_history"),
    path("organisation/audit/bundle.json", audit_bundle, name="audit_bundle"),
]
