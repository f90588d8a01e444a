"""The care home manager's daily status, on one GOV.UK form instead of a file.

The form is built from the collection's standard (care-home-daily-status): one question per
column, required where the standard requires it, with the standard's limits. The answers become
a one-row CSV in the standard's column order, checked by the same validation engine as an
uploaded file: first here, so a problem shows against the question it came from, then — sent
through ``actions.receive`` like any upload — by the background check whose result the
submission page shows.

The home's own details (CQC location, postcode, codes) rarely change: they are filled in from
its last accepted return, read from the vault through the decision point (the home reading its
own data, as its controller), and otherwise asked for once.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import re
from typing import Any

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import HTML, Button, Field, Fieldset, Fluid, Layout, Size
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from accord.access.decisions import decide
from accord.access.enums import Action
from accord.access.exceptions import AccessDenied
from accord.access.extracts import as_permitted
from accord.audit.exceptions import Refused
from accord.organisations.models import Membership
from accord.standards.schema import Field as StandardField
from accord.standards.schema import Standard
from accord.submissions import actions, queries
from accord.submissions.engine import validate_file
from accord.submissions.exceptions import UnusableFile
from accord.submissions.models import Collection, Contributor
from accord.vault.exceptions import VaultError
from accord.vault.parquet import private_workspace, read_frame
from accord.vault.queries import resource_for

from ..drafting import DayField
from .common import actor, require_role

STANDARD_SLUG = "care-home-daily-status"
PREFILL_PURPOSE = "Filling in my care home's daily status from its last return"
FROM_LAST = "Filled in from your last accepted return. Change anything that is different."
ASK_ONCE = "Fill these in once: next time they are filled in from this return."
CHECK = "Check these details are right for your home."

# The home's own details: from the last accepted return, else asked for once.
IDENTITY = (
    "care_home_name",
    "cqc_location_id",
    "postcode",
    "service_type",
    "ltla_cd",
    "utla_cd",
    "icb_cd",
    "combined_authority_cd",
    "uprn",
    "ods_code",
    "cqc_provider_id",
)
# The day's figures, in the order a manager thinks of them.
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Beds",
        (
            "registered_beds",
            "occupied_beds",
            "vacant_beds_residential",
            "vacant_beds_nursing",
            "vacant_beds_dementia",
            "admissions_status",
        ),
    ),
    (
        "Covid",
        (
            "residents_covid_positive_new_24h",
            "staff_covid_positive_new_24h",
            "residents_covid_deaths_7d",
            "outbreak_status",
            "outbreak_start_date",
        ),
    ),
    (
        "Personal protective equipment (PPE)",
        ("ppe_days_gloves", "ppe_days_aprons", "ppe_days_iir_masks", "ppe_rag"),
    ),
    (
        "Staff",
        ("staff_headcount", "staff_absent_total", "staff_absent_covid", "agency_shifts_7d"),
    ),
    (
        "Visiting, vaccination and training",
        (
            "visiting_status",
            "residents_booster_pct",
            "staff_booster_pct",
            "ipc_training_completed",
        ),
    ),
)
# Code-like answers kept in capitals, as the standard writes them.
UPPER = {
    "postcode",
    "ltla_cd",
    "utla_cd",
    "icb_cd",
    "combined_authority_cd",
    "ods_code",
}

# The question for each column, and what it counts or names (for error messages). Columns not
# listed use the standard's title.
QUESTIONS: dict[str, tuple[str, str]] = {
    "report_date": ("Which day are the figures for?", "the day the figures are for"),
    "care_home_name": ("Name of the home", "the home's name"),
    "cqc_location_id": ("CQC location ID", "the home's CQC location ID"),
    "postcode": ("Postcode", "the home's postcode"),
    "service_type": ("Main type of care", "the home's main type of care"),
    "ltla_cd": ("Local authority code", "the local authority code"),
    "utla_cd": ("Upper-tier local authority code (optional)", "the upper-tier authority code"),
    "icb_cd": ("Integrated care board code (optional)", "the integrated care board code"),
    "combined_authority_cd": (
        "Combined authority code (optional)",
        "the combined authority code",
    ),
    "uprn": ("UPRN (optional)", "the UPRN"),
    "ods_code": ("ODS code (optional)", "the ODS code"),
    "cqc_provider_id": ("CQC provider ID (optional)", "the CQC provider ID"),
    "registered_beds": ("How many beds is the home registered for?", "registered beds"),
    "occupied_beds": ("How many beds are occupied?", "occupied beds"),
    "vacant_beds_residential": (
        "Vacant beds you could fill today: residential care",
        "vacant residential beds",
    ),
    "vacant_beds_nursing": (
        "Vacant beds you could fill today: nursing care",
        "vacant nursing beds",
    ),
    "vacant_beds_dementia": (
        "Vacant beds you could fill today: dementia care",
        "vacant dementia beds",
    ),
    "admissions_status": ("Is the home taking new residents?", "whether the home is admitting"),
    "residents_covid_positive_new_24h": (
        "Residents with a new positive Covid test in the last 24 hours",
        "residents newly Covid positive",
    ),
    "staff_covid_positive_new_24h": (
        "Staff with a new positive Covid test in the last 24 hours",
        "staff newly Covid positive",
    ),
    "residents_covid_deaths_7d": (
        "Residents who died with Covid in the last 7 days",
        "resident Covid deaths",
    ),
    "outbreak_status": ("Does the home have a Covid outbreak?", "the outbreak status"),
    "outbreak_start_date": ("When did the outbreak start?", "the date the outbreak started"),
    "ppe_days_gloves": ("Gloves: days of supply", "days of gloves"),
    "ppe_days_aprons": ("Aprons: days of supply", "days of aprons"),
    "ppe_days_iir_masks": ("Type IIR masks: days of supply", "days of type IIR masks"),
    "ppe_rag": ("Overall PPE position", "the overall PPE position"),
    "staff_headcount": ("How many staff does the home employ?", "staff"),
    "staff_absent_total": ("How many staff were absent today?", "staff absent"),
    "staff_absent_covid": ("Of those, how many were absent because of Covid?", "staff absent"),
    "agency_shifts_7d": ("Agency shifts worked in the last 7 days", "agency shifts"),
    "visiting_status": ("Can families and friends visit?", "whether visiting is open"),
    "residents_booster_pct": (
        "Residents with the latest Covid vaccine (%)",
        "the percentage of residents",
    ),
    "staff_booster_pct": ("Staff with the latest Covid vaccine (%)", "the percentage of staff"),
    "ipc_training_completed": (
        "Have all staff completed infection prevention and control training in the last 12 months?",
        "whether all staff have completed the training",
    ),
}
CHOICE_LABELS: dict[str, dict[str, str]] = {
    "service_type": {
        "older_adults_residential": "Older adults: residential care",
        "older_adults_nursing": "Older adults: nursing care",
        "younger_adults": "Younger adults",
        "learning_disability": "Learning disability",
        "mental_health": "Mental health",
    },
    "admissions_status": {
        "open": "Yes, open to admissions",
        "restricted": "Restricted, for example only readmissions from hospital",
        "closed": "No, closed to admissions",
    },
    "outbreak_status": {
        "none": "No",
        "suspected": "Suspected",
        "confirmed": "Confirmed",
        "declared_over": "Declared over by the health protection team",
    },
    "ppe_rag": {
        "red": "Red: less than a week of some item",
        "amber": "Amber: one to two weeks",
        "green": "Green: more than two weeks",
        "blue": "Blue: a long-term supply is arranged",
    },
    "visiting_status": {
        "open": "Yes, visiting is open",
        "restricted": "Restricted, for example one named visitor",
        "closed": "No, visiting is closed",
    },
}
INLINE = {"ipc_training_completed"}


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.lstrip("-").isdigit() else value


def _form_field(spec: StandardField, initial: Any = None) -> forms.Field:
    """A form field for one column of the standard, with its limits and plain messages."""
    label, what = QUESTIONS.get(spec.name, (spec.title, spec.title.lower()))
    required = spec.required
    common: dict[str, Any] = {"label": label, "required": required, "help_text": spec.description}
    if spec.enum or spec.type == "boolean":
        # The answers say it all; the standard's description lists codes for a file.
        common["help_text"] = ""
    if spec.enum:
        labels = CHOICE_LABELS.get(spec.name, {})
        return forms.ChoiceField(
            choices=[(v, labels.get(v, v.replace("_", " ").capitalize())) for v in spec.enum],
            widget=forms.RadioSelect,
            error_messages={
                "required": f"Select {what}",
                "invalid_choice": f"Choose {what} from the answers given",
            },
            **common,
        )
    if spec.type == "integer":
        minimum, maximum = _number(spec.minimum), _number(spec.maximum)
        example = spec.example or "3"
        return forms.IntegerField(
            min_value=minimum,
            max_value=maximum,
            widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"}),
            error_messages={
                "required": f"Enter the number of {what}",
                "invalid": f"Enter the number of {what} as a whole number, like {example}",
                "min_value": f"The number of {what} must be {minimum} or more",
                "max_value": f"The number of {what} must be {maximum:,} or fewer"
                if isinstance(maximum, int)
                else f"The number of {what} is too large",
            },
            **common,
        )
    if spec.type == "number":
        minimum, maximum = _number(spec.minimum), _number(spec.maximum)
        return forms.DecimalField(
            min_value=minimum,
            max_value=maximum,
            max_digits=6,
            decimal_places=2,
            widget=forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"}),
            error_messages={
                "required": f"Enter {what}",
                "invalid": f"Enter {what} as a number without the % sign, like 83.5",
                "min_value": f"{what.capitalize()} must be {minimum} or more",
                "max_value": f"{what.capitalize()} must be {maximum} or less",
                "max_decimal_places": f"Enter {what} with no more than 2 decimal places",
                "max_digits": f"Enter {what} as a number from {minimum} to {maximum}",
                "max_whole_digits": f"Enter {what} as a number from {minimum} to {maximum}",
            },
            **common,
        )
    if spec.type == "boolean":
        return forms.ChoiceField(
            choices=[("yes", "Yes"), ("no", "No")],
            widget=forms.RadioSelect,
            error_messages={"required": f"Select {what}"},
            **common,
        )
    if spec.type == "date":
        hint = "For example, 27/3/2027"
        if not required:
            hint = "Leave it blank if the home has not had one. " + hint
        return NamedDayField(what=what, label=label, required=required, help_text=hint)
    return forms.CharField(
        max_length=spec.max_length or 200,
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
        error_messages={
            "required": f"Enter {what}",
            "max_length": f"Shorten {what} to {spec.max_length or 200} characters or fewer",
        },
        **common,
    )


class NamedDayField(DayField):
    """A day field whose messages name the question."""

    def __init__(self, *, what: str, **kwargs: Any) -> None:
        self.what = what
        super().__init__(error_messages={"required": f"Enter {what}"}, **kwargs)

    def clean(self, value: Any) -> dt.date | None:
        try:
            return super().clean(value)
        except forms.ValidationError as problem:
            if getattr(problem, "code", None) == "required":
                raise
            raise forms.ValidationError(
                f"Enter {self.what} as a real date, like 27/3/2027"
            ) from None


class StatusForm(forms.Form):
    """The day's status: one question for each column of the collection's standard."""

    submit_label = "Send today's status"

    def __init__(
        self,
        collection: Collection,
        standard: Standard,
        *args: Any,
        today: dt.date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.collection = collection
        self.standard = standard
        self.today = today or timezone.localdate()
        for spec in standard.fields:
            self.fields[spec.name] = _form_field(spec)
        if "report_date" in self.fields:
            self.fields["report_date"].initial = self.today
            self.fields[
                "report_date"
            ].help_text = (
                f"Usually today. For example, {self.today.day}/{self.today.month}/{self.today.year}"
            )
        self.fields["caveats"] = forms.CharField(
            label="Anything the people using these figures should know? (optional)",
            help_text="For example, 'Beds figures exclude the closed wing'",
            widget=forms.Textarea,
            required=False,
            max_length=actions.MAX_CAVEATS,
            error_messages={
                "max_length": f"Keep what you tell people to {actions.MAX_CAVEATS:,} characters "
                "or fewer"
            },
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.lay_out(about_open=True, intro=ASK_ONCE)

    # Layout ---------------------------------------------------------------------------------

    def identity_names(self) -> list[str]:
        return [n for n in IDENTITY if n in self.fields]

    def sections(self) -> list[tuple[str, list[str]]]:
        """The figures' sections, with any column the standard has beyond them at the end."""
        found = [(legend, [n for n in names if n in self.fields]) for legend, names in SECTIONS]
        placed = {"report_date", "caveats", *IDENTITY, *(n for _, ns in SECTIONS for n in ns)}
        extra = [n for n in self.fields if n not in placed]
        if extra:
            found.append(("Other figures", extra))
        return [(legend, names) for legend, names in found if names]

    def _field(self, name: str) -> Any:
        field = self.fields[name]
        if isinstance(field, forms.ChoiceField) and isinstance(field.widget, forms.RadioSelect):
            return Field.radios(name, legend_size=Size.SMALL, small=True, inline=name in INLINE)
        if isinstance(field, (forms.IntegerField, forms.DecimalField)):
            return Field.text(name, field_width=4)
        if isinstance(field, DayField):
            return Field.text(name, field_width=10)
        return Field.text(name, field_width=Fluid.TWO_THIRDS)

    def lay_out(self, *, about_open: bool, intro: str) -> None:
        """The layout: the day, the home's details (folded away once known), then the figures."""
        parts: list[Any] = []
        if "report_date" in self.fields:
            parts.append(Field.text("report_date", field_width=10))
        parts += [
            HTML(
                '<details class="govuk-details" id="about-your-home"'
                f"{' open' if about_open else ''}>"
                '<summary class="govuk-details__summary">'
                '<span class="govuk-details__summary-text">About your home</span></summary>'
                f'<div class="govuk-details__text"><p class="govuk-body">{intro}</p>'
            ),
            Fieldset(
                *[self._field(n) for n in self.identity_names()],
                legend="Your home's details",
                legend_size=Size.SMALL,
            ),
            HTML("</div></details>"),
        ]
        for legend, names in self.sections():
            parts.append(
                Fieldset(*[self._field(n) for n in names], legend=legend, legend_size=Size.MEDIUM)
            )
        parts += [Field.textarea("caveats", rows=3), Button("submit", self.submit_label)]
        self.helper.layout = Layout(*parts)

    # Checks ---------------------------------------------------------------------------------

    def clean_report_date(self) -> dt.date | None:
        day = self.cleaned_data.get("report_date")
        if day is None:
            return day
        if day > self.today:
            raise forms.ValidationError("The day the figures are for must be today or in the past")
        if day < self.collection.starts_on:
            raise forms.ValidationError(
                f"{self.collection.name} starts on "
                f"{self.collection.starts_on.day} {self.collection.starts_on:%B %Y}: enter that "
                "day or a later one"
            )
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in UPPER:
            if isinstance(data.get(name), str):
                data[name] = data[name].upper()
        self._check_patterns(data)

        def given(name: str) -> Any:
            return data.get(name) if name not in self.errors else None

        registered, occupied = given("registered_beds"), given("occupied_beds")
        if registered is not None and occupied is not None and occupied > registered:
            self.add_error(
                "occupied_beds",
                f"Occupied beds ({occupied}) cannot be more than registered beds ({registered}): "
                "check both figures",
            )
        elif registered is not None and occupied is not None:
            empty = registered - occupied
            for name in ("vacant_beds_residential", "vacant_beds_nursing", "vacant_beds_dementia"):
                vacant = given(name)
                if vacant is not None and vacant > empty:
                    what = QUESTIONS[name][1]
                    self.add_error(
                        name,
                        f"The number of {what} ({vacant}) cannot be more than the empty beds "
                        f"({registered} registered less {occupied} occupied is {empty})",
                    )
        absent, covid = given("staff_absent_total"), given("staff_absent_covid")
        if absent is not None and covid is not None and covid > absent:
            self.add_error(
                "staff_absent_covid",
                f"Staff absent because of Covid ({covid}) are part of all staff absent "
                f"({absent}), so cannot be more: check both figures",
            )
        headcount = given("staff_headcount")
        if absent is not None and headcount is not None and absent > headcount:
            self.add_error(
                "staff_absent_total",
                f"Staff absent ({absent}) cannot be more than the staff the home employs "
                f"({headcount})",
            )
        status, began = given("outbreak_status"), given("outbreak_start_date")
        if (
            status in ("suspected", "confirmed")
            and began is None
            and "outbreak_start_date" in self.fields
        ):
            self.add_error(
                "outbreak_start_date",
                "Enter the date the outbreak started, like 27/3/2027",
            )
        day = given("report_date")
        if began is not None and day is not None and began > day:
            self.add_error(
                "outbreak_start_date",
                "The date the outbreak started must be on or before the day the figures are for",
            )
        self._check_earliest_dates(data)
        return data

    def _check_earliest_dates(self, data: dict[str, Any]) -> None:
        """The standard's earliest dates (the report date is checked against the collection)."""
        for spec in self.standard.fields:
            value = data.get(spec.name)
            if spec.type != "date" or not isinstance(value, dt.date) or spec.name in self.errors:
                continue
            try:
                earliest = dt.date.fromisoformat(str(spec.minimum))
            except ValueError:
                continue
            if value < earliest:
                what = QUESTIONS.get(spec.name, (spec.title, spec.title.lower()))[1]
                self.add_error(
                    spec.name,
                    f"Enter {what} as {earliest.day}/{earliest.month}/{earliest.year} or later",
                )

    def _check_patterns(self, data: dict[str, Any]) -> None:
        """The standard's own patterns, with its own messages."""
        for spec in self.standard.fields:
            value = data.get(spec.name)
            if (
                spec.pattern
                and isinstance(value, str)
                and value
                and not re.fullmatch(spec.pattern, value)
            ):
                message = spec.messages.get("pattern") or (
                    f"{value} is not in the form {spec.title} takes"
                )
                self.add_error(spec.name, message.replace("{value}", value))

    # The return -----------------------------------------------------------------------------

    def as_csv(self) -> bytes:
        """The answers as a one-row CSV: the standard's columns, in its order."""
        data = self.cleaned_data
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        names = [spec.name for spec in self.standard.fields]
        writer.writerow(names)
        writer.writerow([_cell(data.get(name)) for name in names])
        return buffer.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        text = format(value.normalize(), "f")
        return text
    return str(value)


# Reading the last return ------------------------------------------------------------------------


def _last_details(
    request: HttpRequest, collection: Collection, membership: Membership, names: list[str]
) -> dict[str, str]:
    """The home's details from its last accepted return, read through the decision point;
    nothing if there is none or it cannot be read."""
    last = (
        queries.history(collection, membership.organisation_id)
        .filter(state__in=("accepted", "superseded"), rows_object__isnull=False)
        .select_related("rows_object")
        .order_by("-period", "-received_at")
        .first()
    )
    if last is None or last.rows_object is None:
        return {}
    by = actor(request)
    resource = resource_for(last.rows_object)
    decision = decide(actor=by, action=Action.VIEW, resource=resource, purpose=PREFILL_PURPOSE)
    if decision.denied:
        return {}
    try:
        frame = read_frame(last.rows_object.pk, by=by, decision=decision)
    except (VaultError, AccessDenied):
        return {}
    frame = as_permitted(frame, decision)
    wanted = [n for n in names if n in frame.columns]
    if frame.is_empty() or not wanted:
        return {}
    row = frame.select(wanted).row(frame.height - 1, named=True)
    return {name: str(value) for name, value in row.items() if value not in (None, "")}


def _engine_problems(form: StatusForm) -> bool:
    """Check the one-row return with the validation engine, as the background check will, and
    put each error against its question; True if there were any."""
    with private_workspace() as folder:
        path = folder / "status.csv"
        path.write_bytes(form.as_csv())
        try:
            report = validate_file(path, form.standard, display_name="status.csv")
        except UnusableFile as unusable:
            form.add_error(None, unusable.message)
            return True
    found = False
    for problem in report.errors.iter_rows(named=True):
        name = problem.get("field") or ""
        message = str(problem.get("message") or "This answer does not meet the standard")
        if name in form.fields and name not in form.errors:
            form.add_error(name, message)
        elif name not in form.fields:
            form.add_error(None, message)
        found = True
    return found


# The page ---------------------------------------------------------------------------------------


def _collection_for_status(
    request: HttpRequest, collection_id: str
) -> tuple[Membership, Collection]:
    """The collection, for a member with a submitting role of one of its active contributors,
    when it collects care home daily status; 404 or 403 (as the upload page) otherwise."""
    membership = require_role(request, *actions.SUBMITTING_ROLES)
    collection = queries.collection_for(membership.organisation_id, collection_id)
    if collection.standard_slug != STANDARD_SLUG:
        raise Http404("This collection does not take the care home daily status form.")
    if not Contributor.objects.filter(
        collection=collection, organisation_id=membership.organisation_id, is_active=True
    ).exists():
        raise PermissionDenied(
            f"{membership.organisation.name} does not send returns to this collection, so it "
            "has no daily status to send."
        )
    return membership, collection


@login_required
def status_form(request: HttpRequest, collection_id: str) -> HttpResponse:
    membership, collection = _collection_for_status(request, collection_id)
    standard = actions.standard_of(collection)
    form = StatusForm(collection, standard, request.POST or None)
    identity = form.identity_names()
    required = [n for n in identity if form.fields[n].required]
    if request.method == "POST":
        if form.is_valid() and not _engine_problems(form):
            day = form.cleaned_data["report_date"]
            try:
                submission = actions.receive(
                    by=actor(request),
                    collection=collection,
                    period=day,
                    filename=f"status-form-{day.isoformat()}.csv",
                    source=form.as_csv(),
                    caveats=form.cleaned_data["caveats"],
                    via="web",
                )
            except Refused as refusal:
                form.add_error(None, refusal.reason)
            else:
                return redirect("web:submission", submission_id=submission.pk)
        about_open = any(n in form.errors for n in identity) or not all(
            request.POST.get(n) for n in required
        )
        intro = CHECK
    else:
        details = _last_details(request, collection, membership, identity)
        if not details:  # the first time: what Accord knows of the home
            details = {"care_home_name": membership.organisation.name}
            if membership.organisation.ods_code:
                details["ods_code"] = membership.organisation.ods_code
        form.initial.update(details)
        about_open = not all(details.get(n) for n in required)
        intro = ASK_ONCE if about_open else FROM_LAST
    form.lay_out(about_open=about_open, intro=intro)
    return render(
        request,
        "web/collections/status_form.html",
        {
            "form": form,
            "collection": collection,
            "standard": standard,
            "organisation": membership.organisation,
            "heading": "Send today's status",
        },
    )
