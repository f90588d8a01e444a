"""The guided drafting sequence: one GOV.UK question page per part of an agreement.

Each step is a form that reads its initial answers from the draft document and writes its
answers back into a copy of it (``apply``); the view saves the draft after every step, so
nothing typed is lost, and shows the rule checks' findings for the parts the step covers.
Memoranda of understanding (non-personal data) skip the personal-data steps.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, get_args

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Button, Field, Fieldset, Fluid, Layout, Size
from django import forms

from accord.agreements import document as doc
from accord.agreements.document import DataSharingAgreement
from accord.agreements.frameworks import dataset_from_standard
from accord.agreements.rules import SIGNING_CODES, Finding
from accord.agreements.vocabularies import load
from accord.standards.queries import get_standard, latest_versions
from accord.standards.schema import Standard


def _choices(vocabulary: str, codes: Iterable[str] | None = None) -> list[tuple[str, str]]:
    vocab = load(vocabulary)
    wanted = list(codes) if codes is not None else list(vocab.codes())
    return [(code, vocab.get(code).label) for code in wanted]


def _literal_choices(literal: Any, labels: dict[str, str] | None = None) -> list[tuple[str, str]]:
    labels = labels or {}
    return [(v, labels.get(v, v.replace("_", " ").capitalize())) for v in get_args(literal)]


UK_DATE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")


class DayField(forms.CharField):
    """A date typed as 27/3/2027 or 2027-03-27, as people write them."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "For example, 27/3/2027")
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dt.date):
            return f"{value.day}/{value.month}/{value.year}"
        return value

    def clean(self, value: Any) -> dt.date | None:
        text = str(super().clean(value) or "").strip()
        if not text:
            return None
        match = UK_DATE.match(text)
        try:
            if match:
                day, month, year = (int(g) for g in match.groups())
                return dt.date(year, month, day)
            return dt.date.fromisoformat(text)
        except ValueError:
            raise forms.ValidationError(
                f"'{text}' is not a real date. Write it like 27/3/2027."
            ) from None


class StepForm(forms.Form):
    """A drafting step: initial answers from a document, answers applied to a copy of it."""

    def __init__(self, document: DataSharingAgreement, *args: Any, **kwargs: Any) -> None:
        self.document = document
        kwargs.setdefault("initial", self.initial_from(document))
        super().__init__(*args, **kwargs)
        self.add_fields(document)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(*self.layout_fields(), Button("submit", "Save and continue"))

    def initial_from(self, document: DataSharingAgreement) -> dict[str, Any]:
        return {}

    def add_fields(self, document: DataSharingAgreement) -> None:
        """Fields that depend on the document (one per dataset field, per flow...)."""

    def layout_fields(self) -> list[Any]:
        return [_field(name, self.fields[name]) for name in self.fields]

    def apply(self, document: DataSharingAgreement) -> DataSharingAgreement:
        raise NotImplementedError


def _field(name: str, field: forms.Field) -> Any:
    widget = field.widget
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return Field.checkboxes(name, legend_size=Size.SMALL, small=True)
    if isinstance(widget, forms.RadioSelect):
        return Field.radios(name, legend_size=Size.SMALL, small=True)
    if isinstance(widget, forms.CheckboxInput):
        return Field.checkbox(name, small=True)
    if isinstance(widget, forms.Select):
        return Field.select(name)
    if isinstance(widget, forms.Textarea):
        return Field.textarea(name, rows=3)
    if isinstance(field, DayField):
        return Field.text(name, field_width=10)
    return Field.text(name, field_width=Fluid.TWO_THIRDS)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _update(model: Any, **changes: Any) -> Any:
    return model.model_copy(update=changes)


# About -----------------------------------------------------------------------------------------


class AboutForm(StepForm):
    title = forms.CharField(
        label="What is the agreement called?",
        max_length=300,
        help_text="A plain title that says who shares what, for example 'Care home daily "
        "status to Greater Manchester'",
        error_messages={"required": "Enter a title for the agreement"},
    )
    jurisdictions = forms.MultipleChoiceField(
        label="Where does it apply?",
        choices=_literal_choices(doc.Jurisdiction, {"uk": "The whole UK"}),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def initial_from(self, document: DataSharingAgreement) -> dict[str, Any]:
        return {"title": document.title, "jurisdictions": document.jurisdictions}

    def apply(self, document: DataSharingAgreement) -> DataSharingAgreement:
        data = self.cleaned_data
        return _update(document, title=data["title"], jurisdictions=data["jurisdictions"])


# Parties ---------------------------------------------------------------------------------------


class PartiesForm(StepForm):
    def add_fields(self, document: DataSharingAgreement) -> None:
        for i, party in enumerate(document.parties):
            dpo = party.contacts.dpo if party.contacts and party.contacts.dpo else None
            self.fields[f"p{i}_roles"] = forms.MultipleChoiceField(
                label=f"What is {party.name or party.id}'s part in the sharing?",
                choices=_choices("party_roles"),
                widget=forms.CheckboxSelectMultiple,
                required=False,
                initial=party.roles,
            )
            self.fields[f"p{i}_dpo_name"] = forms.CharField(
                label="Name of its data protection officer",
                required=False,
                max_length=200,
                initial=dpo.name if dpo else "",
            )
            self.fields[f"p{i}_dpo_email"] = forms.EmailField(
                label="Email address of its data protection officer",
                required=False,
                initial=dpo.email if dpo else "",
            )

    def layout_fields(self) -> list[Any]:
        return [
            Fieldset(
                _field(f"p{i}_roles", self.fields[f"p{i}_roles"]),
                Field.text(f"p{i}_dpo_name", field_width=Fluid.TWO_THIRDS),
                Field.text(f"p{i}_dpo_email", field_width=Fluid.TWO_THIRDS),
                legend=party.name or party.id,
                legend_size=Size.MEDIUM,
            )
            for i, party in enumerate(self.document.parties)
        ]

    def apply(self, document: DataSharingAgreement) -> DataSharingAgreement:
        parties = []
        for i, party in enumerate(document.parties):
            data = self.cleaned_data
            contacts = party.contacts or doc.Contacts()
            name, email = data[f"p{i}_dpo_name"], data[f"p{i}_dpo_email"]
            if name or email:
                contacts = _update(
                    contacts, dpo=doc.ContactPoint(name=name, email=email or None, role="DPO")
                )
            parties.append(
                _update(
                    party,
                    roles=data[f"p{i}_roles"],
                    contacts=None if contacts == doc.Contacts() else contacts,
                )
            )
        return _update(document, parties=parties)


# Purposes --------------------------------------------------------------------------------------


class PurposeForm(StepForm):
    title = forms.CharField(
        label="What is the data for?",
        max_length=300,
        help_text="One line, for example 'Monitor care home capacity and infection'",
        error_messages={"required": "Say what the data is for"},
    )
    description = forms.CharField(
        label="What question will it answer?", widget=forms.Textarea, required=False
    )
    function_or_power = forms.CharField(
        label="Which function or power of the recipient does it serve?",
        help_text="For example 'Care Act 2014 sections 5 and 6 (market shaping and co-operation)'",
        required=False,
        max_length=500,
    )
    benefits = forms.CharField(
        label="What good will it do, and for whom?", widget=forms.Textarea, required=False
    )
    expected_outcomes = forms.CharField(
        label="What outcomes do you expect?",
        help_text="One per line",
        widget=forms.Textarea,
        required=False,
    )
    kinds = forms.MultipleChoiceField(
        label="Is any of this true of the purpose?",
        choices=[
            ("is_direct_care", "It is individual care of the people the data is about"),
            ("is_research_or_statistics", "It is research or statistics"),
            ("is_law_enforcement", "It is law enforcement by a competent authority"),
        ],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def initial_from(self, document: DataSharingAgreement) -> dict[str, Any]:
        if not document.purposes:
            return {}
        purpose = document.purposes[0]
        return {
            "title": purpose.title,
            "description": purpose.description,
            "function_or_power": purpose.function_or_power,
            "benefits": purpose.benefits,
            "expected_outcomes": "\n".join(purpose.expected_outcomes),
            "kinds": [
                k
                for k in ("is_direct_care", "is_research_or_statistics", "is_law_enforcement")
                if getattr(purpose, k)
            ],
        }

    def apply(self, document: DataSharingAgreement) -> DataSharingAgreement:
        data = self.cleaned_data
        first = document.purposes[0] if document.purposes else doc.Purpose(id="purpose-1")
        purpose = _update(
            first,
            title=data["title"],
            description=data["description"],
            function_or_power=data["function_or_power"],
            benefits=data["benefits"],
            expected_outcomes=_lines(data["expected_outcomes"]),
            **{
                k: k in data["kinds"]
                for k in ("is_direct_care", "is_research_or_statistics", "is_law_enforcement")
            },
        )
        return _update(document, purposes=[purpose, *document.purposes[1:]])


# Data ------------------------------------------------------------------------------------------


class DataForm(StepForm):
    data_subjects = forms.MultipleChoiceField(
        label="Who is the data about?",
        choices=_literal_choices(doc.DataSubject),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    children_data = forms.BooleanField(label="It includes data about children", required=False)
    children_compelling_reason = forms.CharField(
        label="If so, what is the compelling reason to share children's data?",
        widget=forms.Textarea,
        required=False,
    )

    CATEGORY_CHOICES = _literal_choices(
        doc.PersonalDataCategory,
        {
            "not_personal": "Not personal data",
            "personal": "Personal data",
            "special_category_health": "Health (special category)",
            "special_category_ethnicity": "Ethnicity (special category)",
            "special_category_other": "Other special category",
            "criminal_offence": "Criminal offence data",
            "child_protection": "Child protection",
            "financial": "Financial",
            "contact_details": "Contact details",
            "identifier": "Identifier of a person",
        },
    )
    TRANSFORMATION_CHOICES = _literal_choices(
        doc.Transformation,
        {
            "none": "Shared as it is",
            "pseudonymise_keyed_hash": "Pseudonymised (keyed hash)",
            "truncate": "Truncated (for example postcode district)",
            "generalise": "Generalised (for example age band)",
            "aggregate": "Aggregates only",
            "suppress": "Not shared",
        },
    )

    def initial_from(self, document: DataSharingAgreement) -> dict[str, Any]:
        return {
            "data_subjects": document.data_subjects,
            "children_data": document.children_data,
            "children_compelling_reason": document.children_compelling_reason or "",
        }

    def add_fields(self, document: DataSharingAgreement) -> None:
        present = {(d.standard or "").split("@")[0] for d in document.datasets}
        self.fields["add_standard"] = forms.ChoiceField(
            label="Add data from another standard",
            help_text="Its columns are added as fields, shared by the existing flow",
            choices=[
                ("", "Add nothing"),
                *[(s.slug, s.title) for s in latest_versions() if s.slug not in present],
            ],
            required=False,
        )
        for d, dataset in enumerate(document.datasets):
            for f, field in enumerate(dataset.fields):
                key = f"d{d}f{f}"
                self.fields[f"{key}_category"] = forms.ChoiceField(
                    label=f"'{field.name}': what kind of data is it?",
                    help_text=field.description,
                    choices=self.CATEGORY_CHOICES,
                    initial=field.personal_data_category,
                )
                self.fields[f"{key}_transformation"] = forms.ChoiceField(
                    label=f"'{field.name}': how is it changed before it is shared?",
                    choices=self.TRANSFORMATION_CHOICES,
                    initial=field.transformation_before_share,
                )
                self.fields[f"{key}_necessity"] = forms.CharField(
                    label=f"'{field.name}': why is it needed?",
                    help_text="Needed for personal data: why the purpose cannot be met without it",
                    required=False,
                    max_length=1000,
                    initial=field.necessity_justification or "",
                )

    def layout_fields(self) -> list[Any]:
        fixed = [
            _field("data_subjects", self.fields["data_subjects"]),
            _field("children_data", self.fields["children_data"]),
            _field("children_compelling_reason", self.fields["children_compelling_reason"]),
        ]
        for d, dataset in enumerate(self.document.datasets):
            parts = []
            for f, _field_spec in enumerate(dataset.fields):
                key = f"d{d}f{f}"
                parts += [
                    Field.select(f"{key}_category"),
                    Field.select(f"{key}_transformation"),
                    Field.text(f"{key}_necessity", field_width=Fluid.FULL),
                ]
            fixed.append(
                Fieldset(
                    *parts,
                    legend=f"Data: {dataset.name or dataset.id}"
                    + (f" (standard {dataset.standard})" if dataset.standard else ""),
                    legend_size=Size.MEDIUM,
                )
            )
        fixed.append(Field.select("add_standard"))
        return fixed

    def apply(self, document: DataSharingAgreement) -> DataSharingAgreement:
        data = self.cleaned_data
        datasets = []
        for d, dataset in enumerate(document.datasets):
            fields = []
            for f, field in enumerate(dataset.fields):
                key = f"d{d}f{f}"
                fields.append(
                    _update(
                        field,
                        personal_data_category=data[f"{key}_category"],
                        transformation_before_share=data[f"{key}_transformation"],
                        necessity_justification=data[f"{key}_necessity"].strip() or None,
                    )
                )
            datasets.append(_update(dataset, fields=fields))
        document = _update(
            document,
            data_subjects=data["data_subjects"],
            children_data=data["children_data"],
            children_compelling_reason=data["children_compelling_reason"].strip() or None,
            datasets=datasets,
        )
        if data["add_standard"]:
            document = add_standard(document, get_standard(data["add_standard"]))
        return document


def add_standard(document: DataSharingAgreement, standard: Standard) -> DataSharingAgreement:
    """Add a dataset for ``standard``, provided by the first flow's provider (or the first
    party providing data) and carried by that flow, which is created if there is none."""
    flow = document.flows[0] if document.flows else None
    providers = [p.id for p in document.parties if "data_provider" in p.roles]
    provider = (flow.from_party_id if flow else None) or next(iter(providers), None)
    dataset_id = standard.slug
    while any(d.id == dataset_id for d in document.datasets):
        dataset_id += "-2"
    dataset = dataset_from_standard(standard, dataset_id=dataset_id, provider=provider or "")
    if flow is not None:
        flows = [
            _update(flow, dataset_ids=[*flow.dataset_ids, dataset_id]),
            *document.flows[1:],
        ]
    else:
        recipients = [p.id for p in document.parties if p.id != provider]
        flows = [
            doc.Flow(
                id=f"{provider}-flow",
                from_party_id=provider,
                to_party_ids=recipients,
                dataset_ids=[dataset_id],
                purpose_ids=[p.id for p in document.purposes],
            )
        ]
    return _update(document, datasets=[*document.datasets, dataset], flows=flows)


# Flows -----------------------------------------------------------------------------------------


class FlowsForm(StepForm):
    def add_fields(self, document: DataSharingAgreement) -> None:
        columns = sorted({f.name for d in document.datasets for f in d.fields})
        for i, flow in enumerate(document.flows):
            self.fields[f"f{i}_frequency"] = forms.ChoiceField(
                label="How often is it shared?",
                choices=[("", "Choose"), *_literal_choices(doc.Frequency)],
                required=False,
                initial=flow.frequency or "",
            )
            self.fields[f"f{i}_transfer_method"] = forms.ChoiceField(
                label="How does it travel?",
                choices=[
                    ("", "Choose"),
                    *_literal_choices(
                        doc.TransferMethod,
                        {
                            "api_https": "Through an API over HTTPS",
                            "shared_platform_access": "On Accord (the shared platform)",
                            "tre_access": "In a trusted research environment",
                        },
                    ),
                ],
                required=False,
                initial=flow.transfer_method or "",
            )
            self.fields[f"f{i}_actions"] = forms.MultipleChoiceField(
                label="What may the recipient do with it?",
                choices=[
                    ("view", "View it on Accord"),
                    ("extract", "Download record-level extracts"),
                    ("aggregate_only", "Only see disclosure-controlled totals"),
                    ("link", "Link it with other data"),
                ],
                widget=forms.CheckboxSelectMultiple,
                required=False,
                initial=flow.actions,
            )
            self.fields[f"f{i}_row_column"] = forms.ChoiceField(
                label="Which rows does the recipient get?",
                help_text="Choose a geography column to send only the rows for the "
                "recipient's own area",
                choices=[
                    ("", "Every row"),
                    *[(c, f"Only its own area, by '{c}'") for c in columns],
                ],
                required=False,
                initial=flow.row_filter.column if flow.row_filter else "",
            )

    def layout_fields(self) -> list[Any]:
        parties = {p.id: p.name or p.id for p in self.document.parties}
        blocks = []
        for i, flow in enumerate(self.document.flows):
            to = ", ".join(parties.get(p, p) for p in flow.to_party_ids)
            blocks.append(
                Fieldset(
                    *[
                        _field(f"f{i}_{name}", self.fields[f"f{i}_{name}"])
                        for name in ("frequency", "transfer_method", "actions", "row_column")
                    ],
                    legend=f"From {parties.get(flow.from_party_id or '', '?')} to {to}",
                    legend_size=Size.MEDIUM,
                )
            )
        return blocks

    def apply(self, document: DataSharingAgreement) -> DataSharingAgreement:
        data = self.cleaned_data
        flows = []
        for i, flow in enumerate(document.flows):
            column = data[f"f{i}_row_column"]
            flows.append(
                _update(
                    flow,
                    frequency=data[f"f{i}_frequency"] or None,
                    transfer_method=data[f"f{i}_transfer_method"] or None,
                    actions=data[f"f{i}_actions"],
                    row_filter=doc.RowFilter(column=column, scope="recipient_area")
                    if column
                    else None,
                )
            )
        return _update(document, flows=flows)


# Legal basis -----------------------------------------------------------------------------------


class LegalBasisForm(StepForm):
    article6 = forms.MultipleChoiceField(
        label="UK GDPR Article 6: the lawful basis",
        choices=_choices("article6"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    article6_ea_condition = forms.ChoiceField(
        label="If Article 6(1)(ea): which Annex 1 condition?",
        choices=[("", "Not relying on 6(1)(ea)"), *_choices("article6_ea_conditions")],
        required=False,
    )
    article9 = forms.MultipleChoiceField(
        label="UK GDPR Article 9: the condition for special category data",
        choices=_choices("article9"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    dpa2018_schedule1 = forms.MultipleChoiceField(
        label="Data Protection Act 2018 Schedule 1 conditions",
        choices=_choices("schedule1"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    article10 = forms.BooleanField(
        label="It includes criminal offence data (Article 10)", required=False
    )
    statutory_gateways = forms.MultipleChoiceField(
        label="Statutory gateways: the law that lets the data be shared",
        choices=_choices("gateways"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    confidentiality_basis = forms.ChoiceField(
        label="How is the common-law duty of confidentiality met?",
        choices=[("", "Not stated"), *_choices("confidentiality_bases")],
        required=False,
    )

    def initial_from(self, document: DataSharingAgreement) -> dict[str, Any]:
        basis = document.legal_basis
        return {
            "article6": basis.article6,
            "article6_ea_condition": basis.article6_ea_condition or "",
            "article9": basis.article9,
            "dpa2018_schedule1": basis.dpa2018_schedule1,
            "article10": basis.article10,
            "statutory_gateways": [g.code for g in basis.statutory_gateways],
            "confidentiality_basis": basis.confidentiality_basis or "",
        }

    def apply(self, document: DataSharingAgreement) -> DataSharingAgreement:
        data = self.cleaned_data
        gateways = load("gateways")
        kept = {g.code: g for g in document.legal_basis.statutory_gateways}
        chosen = [
            kept.get(code)
            or doc.StatutoryGateway(
                code=code,
                provision_text=gateways.get(code).label,
                url=gateways.get(code).legislation,
            )
            for code in data["statutory_gateways"]
        ]
        basis = _update(
            document.legal_basis,
            article6=data["article6"],
            article6_ea_condition=data["article6_ea_condition"] or None,
            article9=data["article9"],
            dpa2018_schedule1=data["dpa2018_schedule1"],
            article10=data["article10"],
            statutory_gateways=chosen,
            confidentiality_basis=data["confidentiality_basis"] or None,
        )
        return _update(document, legal_basis=basis)


# DPIA screening --------------------------------------------------------------------------------


class DpiaForm(StepForm):
    screening = forms.MultipleChoiceField(
        label="Does the sharing involve any of these?",
        help_text="The ICO's list of processing likely to be high risk. Any one of them means "
        "a data protection impact assessment (DPIA) is required.",
        choices=[
            (code, f"{load('dpia_high_risk_criteria').get(code).label}")
            for code in get_args(doc.HighRiskCriterion)
        ],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    reference = forms.CharField(label="DPIA reference", required=False, max_length=200)
    completed_date = DayField(label="Date the DPIA was completed")
    outcome = forms.ChoiceField(
        label="Outcome of the DPIA",
        choices=[
            ("", "Not yet known"),
            *_literal_choices(
                doc.DpiaOutcome,
                {
                    "proceed": "Proceed",
                    "proceed_with_mitigations": "Proceed with mitigations",
                    "consult_ico": "Consult the ICO before proceeding",
                    "do_not_proceed": "Do not proceed",
                },
            ),
        ],
        required=False,
    )
    residual_risk = forms.ChoiceField(
        label="Residual risk",
        choices=[("", "Not yet known"), *_literal_choices(doc.ResidualRisk)],
        required=False,
    )
    dpo_advice_recorded = forms.BooleanField(
        label="The DPO's advice on the DPIA is recorded", required=False
    )

    def initial_from(self, document: DataSharingAgreement) -> dict[str, Any]:
        dpia = document.dpia or doc.Dpia()
        return {
            "screening": dpia.screening_reason,
            "reference": dpia.reference or "",
            "completed_date": dpia.completed_date,
            "outcome": dpia.outcome or "",
            "residual_risk": dpia.residual_risk or "",
            "dpo_advice_recorded": dpia.dpo_advice_recorded,
        }

    def apply(self, document: DataSharingAgreement) -> DataSharingAgreement:
        data = self.cleaned_data
        dpia = doc.Dpia(
            required=bool(data["screening"]),
            screening_reason=data["screening"],
            reference=data["reference"] or None,
            completed_date=data["completed_date"],
            outcome=data["outcome"] or None,
            residual_risk=data["residual_risk"] or None,
            dpo_advice_recorded=data["dpo_advice_recorded"],
        )
        if document.dpia is None and dpia == doc.Dpia():
            return document
        return _update(document, dpia=dpia)


# Retention -------------------------------------------------------------------------------------

PERIODS = [
    ("P1M", "1 month"),
    ("P3M", "3 months"),
    ("P6M", "6 months"),
    ("P1Y", "1 year"),
    ("P2Y", "2 years"),
    ("P3Y", "3 years"),
    ("P6Y", "6 years"),
    ("P7Y", "7 years"),
]


class RetentionForm(StepForm):
    def _rules(self, document: DataSharingAgreement) -> list[tuple[str, str]]:
        """(dataset id, party id) for every dataset and each party that receives it."""
        pairs = []
        for flow in document.flows:
            for dataset_id in flow.dataset_ids:
                for party_id in flow.to_party_ids:
                    if (dataset_id, party_id) not in pairs:
                        pairs.append((dataset_id, party_id))
        return pairs

    def add_fields(self, document: DataSharingAgreement) -> None:
        existing = {(r.dataset_id, r.party_id): r for r in document.retention}
        names = {d.id: d.name or d.id for d in document.datasets}
        parties = {p.id: p.name or p.id for p in document.parties}
        for i, (dataset_id, party_id) in enumerate(self._rules(document)):
            rule = existing.get((dataset_id, party_id))
            known = dict(PERIODS)
            period = rule.period if rule and rule.period else ""
            choices = [("", "Choose"), *PERIODS]
            if period and period not in known:
                choices.append((period, period))
            self.fields[f"r{i}_period"] = forms.ChoiceField(
                label=f"How long may {parties.get(party_id, party_id)} keep "
                f"'{names.get(dataset_id, dataset_id)}'?",
                choices=choices,
                required=False,
                initial=period,
            )
            self.fields[f"r{i}_disposal"] = forms.ChoiceField(
                label="And then?",
                choices=[
                    ("secure_delete", "Deleted securely, with a certificate"),
                    ("return", "Returned to the provider"),
                    ("anonymise", "Anonymised"),
                ],
                initial=(rule.disposal_method if rule else None) or "secure_delete",
            )

    def apply(self, document: DataSharingAgreement) -> DataSharingAgreement:
        data = self.cleaned_data
        rules = [
            doc.RetentionRule(
                dataset_id=dataset_id,
                party_id=party_id,
                period=data[f"r{i}_period"] or None,
                disposal_method=data[f"r{i}_disposal"],
                evidence="certificate",
            )
            for i, (dataset_id, party_id) in enumerate(self._rules(document))
        ]
        return _update(document, retention=rules)


# Safeguards ------------------------------------------------------------------------------------


class SafeguardsForm(StepForm):
    classification = forms.ChoiceField(
        label="Security classification",
        choices=[
            ("", "Choose"),
            ("official", "OFFICIAL"),
            ("official_sensitive", "OFFICIAL-SENSITIVE"),
        ],
        required=False,
    )
    hosting_location = forms.ChoiceField(
        label="Where may it be stored?",
        choices=[
            ("", "Choose"),
            ("uk_only", "In the UK only"),
            ("uk_and_adequate", "In the UK or a country with UK adequacy"),
            ("other", "Elsewhere"),
        ],
        required=False,
    )
    assurance = forms.MultipleChoiceField(
        label="Security assurance the recipient holds",
        choices=_literal_choices(
            doc.Assurance,
            {
                "dspt_standards_met": "Data Security and Protection Toolkit: standards met",
                "nhs_dspt_exceeded": "Data Security and Protection Toolkit: standards exceeded",
                "cyber_essentials": "Cyber Essentials",
                "cyber_essentials_plus": "Cyber Essentials Plus",
                "iso27001": "ISO/IEC 27001",
                "psn": "Public Services Network",
            },
        ),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    breach_hours = forms.IntegerField(
        label="How many hours do parties have to tell each other of a breach?",
        min_value=1,
        max_value=720,
        required=False,
    )
    onward_permitted = forms.BooleanField(
        label="The recipient may share it onwards", required=False
    )
    onward_conditions = forms.CharField(
        label="On what conditions, and with whom?", widget=forms.Textarea, required=False
    )
    opt_out = forms.BooleanField(
        label="The National Data Opt-out applies to this sharing", required=False
    )
    privacy_notices = forms.CharField(
        label="Addresses of the privacy notices that tell people about it",
        help_text="One per line",
        widget=forms.Textarea,
        required=False,
    )

    def initial_from(self, document: DataSharingAgreement) -> dict[str, Any]:
        security = document.security or doc.Security()
        onward = document.onward_sharing or doc.OnwardSharing()
        rights = document.rights_handling or doc.RightsHandling()
        breach = document.breach_handling or doc.BreachHandling()
        notices = document.transparency.privacy_notice_urls if document.transparency else []
        return {
            "classification": security.classification or "",
            "hosting_location": security.hosting_location or "",
            "assurance": security.assurance,
            "breach_hours": breach.notify_parties_within_hours,
            "onward_permitted": onward.permitted,
            "onward_conditions": onward.conditions,
            "opt_out": bool(rights.national_data_opt_out_applied),
            "privacy_notices": "\n".join(notices),
        }

    def clean_privacy_notices(self) -> list[str]:
        urls = _lines(self.cleaned_data["privacy_notices"])
        bad = [u for u in urls if not u.startswith(("https://", "http://"))]
        if bad:
            raise forms.ValidationError(f"'{bad[0]}' is not a web address. Start it with https://")
        return urls

    def apply(self, document: DataSharingAgreement) -> DataSharingAgreement:
        data = self.cleaned_data
        security = _update(
            document.security or doc.Security(),
            classification=data["classification"] or None,
            hosting_location=data["hosting_location"] or None,
            assurance=data["assurance"],
        )
        breach = _update(
            document.breach_handling or doc.BreachHandling(),
            notify_parties_within_hours=data["breach_hours"],
        )
        onward = _update(
            document.onward_sharing or doc.OnwardSharing(),
            permitted=data["onward_permitted"],
            conditions=data["onward_conditions"],
        )
        before_rights = document.rights_handling or doc.RightsHandling()
        rights = _update(
            before_rights,
            # Unticked on a draft that never said is still "not said", not "does not apply".
            national_data_opt_out_applied=True
            if data["opt_out"]
            else (None if before_rights.national_data_opt_out_applied is None else False),
        )
        transparency = _update(
            document.transparency or doc.Transparency(),
            privacy_notice_urls=data["privacy_notices"],
        )
        answers = {
            "security": (document.security, security, doc.Security()),
            "breach_handling": (document.breach_handling, breach, doc.BreachHandling()),
            "onward_sharing": (document.onward_sharing, onward, doc.OnwardSharing()),
            "rights_handling": (document.rights_handling, rights, doc.RightsHandling()),
            "transparency": (document.transparency, transparency, doc.Transparency()),
        }
        # A part left empty that was not there before stays absent, so saving a page unchanged
        # changes nothing (and an amendment shows no differences it did not make).
        return _update(
            document,
            **{
                key: None if before is None and after == empty else after
                for key, (before, after, empty) in answers.items()
            },
        )


# Term ------------------------------------------------------------------------------------------


class TermForm(StepForm):
    start_date = DayField(label="When does sharing start?")
    end_date = DayField(label="When does it end?", help_text="Leave empty if it has no end date")
    review_date = DayField(
        label="When will the parties review it?",
        help_text="No more than 36 months after it starts. For example, 27/3/2027",
    )

    def initial_from(self, document: DataSharingAgreement) -> dict[str, Any]:
        term = document.term or doc.Term()
        return {
            "start_date": term.start_date,
            "end_date": term.end_date,
            "review_date": term.review_date,
        }

    def apply(self, document: DataSharingAgreement) -> DataSharingAgreement:
        data = self.cleaned_data
        term = _update(
            document.term or doc.Term(),
            start_date=data["start_date"],
            end_date=data["end_date"],
            review_date=data["review_date"],
        )
        return _update(document, term=term)


# Commitments -----------------------------------------------------------------------------------


class CommitmentsForm(StepForm):
    prohibited = forms.MultipleChoiceField(
        label="What must the data never be used for?",
        help_text="Providers see these on the agreement; the recipient commits to them",
        choices=_choices("prohibited_uses"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    report_what = forms.CharField(
        label="What will the recipient report back to the providers?",
        help_text="For example 'Outcomes: how many residents were helped'",
        required=False,
        max_length=500,
    )
    report_due = forms.ChoiceField(
        label="How often?",
        choices=[
            ("", "No report back"),
            ("P1M", "Monthly"),
            ("P3M", "Quarterly"),
            ("P1Y", "Yearly"),
        ],
        required=False,
    )

    def initial_from(self, document: DataSharingAgreement) -> dict[str, Any]:
        first = document.report_back[0] if document.report_back else None
        return {
            "prohibited": [p.code for p in document.prohibited_uses],
            "report_what": first.what if first else "",
            "report_due": first.due if first else "",
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("report_what") and not data.get("report_due"):
            self.add_error("report_due", "Say how often the recipient reports back")
        return data

    def apply(self, document: DataSharingAgreement) -> DataSharingAgreement:
        data = self.cleaned_data
        vocab = load("prohibited_uses")
        kept = {p.code: p for p in document.prohibited_uses}
        prohibited = [
            kept.get(code) or doc.ProhibitedUse(code=code, description=vocab.get(code).label)
            for code in data["prohibited"]
        ]
        providers = sorted({f.from_party_id for f in document.flows if f.from_party_id})
        report = (
            [
                doc.ReportBack(
                    what=data["report_what"], due=data["report_due"], to_party_ids=providers
                )
            ]
            if data["report_what"]
            else []
        )
        return _update(
            document, prohibited_uses=prohibited, report_back=[*report, *document.report_back[1:]]
        )


class HandlingForm(StepForm):
    """For memoranda of understanding: how the non-personal data must be handled."""

    embargo_until = DayField(label="Embargoed until", help_text="Leave empty if not embargoed")
    foi_exemptions = forms.MultipleChoiceField(
        label="Freedom of Information exemptions relied on",
        choices=_choices("handling_caveats"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    commercially_sensitive = forms.BooleanField(
        label="It is commercially sensitive", required=False
    )

    def initial_from(self, document: DataSharingAgreement) -> dict[str, Any]:
        caveats = document.handling_caveats or doc.HandlingCaveats()
        return {
            "embargo_until": caveats.embargo_until,
            "foi_exemptions": caveats.foi_exemptions,
            "commercially_sensitive": caveats.commercially_sensitive,
        }

    def apply(self, document: DataSharingAgreement) -> DataSharingAgreement:
        data = self.cleaned_data
        caveats = doc.HandlingCaveats(
            embargo_until=data["embargo_until"],
            foi_exemptions=data["foi_exemptions"],
            commercially_sensitive=data["commercially_sensitive"],
        )
        return _update(document, handling_caveats=caveats)


# The sequence ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    form: type[StepForm]
    paths: tuple[str, ...]  # top-level document keys whose findings show on this step
    personal_only: bool = False
    mou_only: bool = False


STEPS: tuple[Step, ...] = (
    Step("about", "About the agreement", AboutForm, ("title", "agreement_type", "jurisdictions")),
    Step("parties", "Parties and their roles", PartiesForm, ("parties",)),
    Step("purpose", "Purpose", PurposeForm, ("purposes",)),
    Step(
        "data",
        "Data and who it is about",
        DataForm,
        ("datasets", "data_subjects", "children_data", "children_compelling_reason"),
    ),
    Step("flows", "How it flows and what the recipient may do", FlowsForm, ("flows",)),
    Step("legal-basis", "Legal basis", LegalBasisForm, ("legal_basis",), personal_only=True),
    Step("dpia", "Data protection impact assessment", DpiaForm, ("dpia",), personal_only=True),
    Step("retention", "How long it is kept", RetentionForm, ("retention",), personal_only=True),
    Step(
        "safeguards",
        "Security, onward sharing and rights",
        SafeguardsForm,
        (
            "security",
            "breach_handling",
            "onward_sharing",
            "rights_handling",
            "transparency",
            "termination",
            "data_quality",
        ),
        personal_only=True,
    ),
    Step("handling", "Handling terms", HandlingForm, ("handling_caveats",), mou_only=True),
    Step("term", "Dates and review", TermForm, ("term",)),
    Step(
        "commitments",
        "Uses ruled out and reporting back",
        CommitmentsForm,
        ("prohibited_uses", "report_back"),
    ),
)


def steps_for(document: DataSharingAgreement) -> list[Step]:
    mou = document.agreement_type == "memorandum_of_understanding"
    return [
        step
        for step in STEPS
        if not (step.personal_only and mou) and not (step.mou_only and not mou)
    ]


def step_named(document: DataSharingAgreement, slug: str) -> Step | None:
    return next((s for s in steps_for(document) if s.slug == slug), None)


def _top(path: str) -> str:
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def findings_for(step: Step, findings: Iterable[Finding]) -> list[Finding]:
    """The findings a step can fix; signing findings belong to signing, not drafting."""
    return [f for f in findings if _top(f.path) in step.paths and f.code not in SIGNING_CODES]


def step_of(finding: Finding, steps: Iterable[Step]) -> Step | None:
    return next((s for s in steps if _top(finding.path) in s.paths), None)


def next_step(document: DataSharingAgreement, slug: str) -> Step | None:
    steps = steps_for(document)
    index = next((i for i, s in enumerate(steps) if s.slug == slug), len(steps))
    return steps[index + 1] if index + 1 < len(steps) else None
