"""Frameworks' common clauses, and agreements drafted from a framework's templates.

A template is a kind of agreement (information sharing protocol, one-way disclosure, joint
controller, controller-processor, memorandum of understanding) with the parts that kind always
has: the parties' roles, the flows' direction and whether personal-data clauses apply. Drafting
from a template fills in the framework's common clauses (security, breach notification, default
retention, review period, prohibited uses) and whatever a data request said, so the drafter
starts from an agreement that is already mostly complete.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, field_validator

from accord.standards.schema import Field as StandardField
from accord.standards.schema import Standard

from .document import (
    ISO_DURATION_PATTERN,
    AgreementType,
    BreachHandling,
    Dataset,
    DataSharingAgreement,
    Field,
    Flow,
    Frequency,
    HandlingCaveats,
    Jurisdiction,
    Party,
    PartyRole,
    ProhibitedUse,
    Publication,
    Purpose,
    RetentionRule,
    RightsHandling,
    Security,
    Term,
    Termination,
)
from .rules import add_months
from .vocabularies import load


class Clauses(BaseModel):
    """What every agreement under a framework has in common."""

    model_config = ConfigDict(extra="forbid")

    jurisdictions: list[Jurisdiction] = ["england"]
    security: Security = Security()
    breach_notify_hours: int = 24
    default_retention: str = "P1Y"
    review_months: int = 12
    termination_notice_days: int = 30
    prohibited_uses: list[str] = []  # codes from the prohibited_uses vocabulary
    publication_register: str = "council_website"

    @field_validator("default_retention")
    @classmethod
    def _duration(cls, value: str) -> str:
        if not ISO_DURATION_PATTERN.match(value):
            raise ValueError(f"'{value}' is not an ISO-8601 duration such as P1Y or P6M")
        return value


@dataclass(frozen=True)
class Template:
    agreement_type: AgreementType
    title: str
    summary: str
    provider_roles: tuple[PartyRole, ...]
    recipient_roles: tuple[PartyRole, ...]
    reciprocal: bool
    personal_data: bool


TEMPLATES: dict[str, Template] = {
    t.agreement_type: t
    for t in (
        Template(
            "information_sharing_protocol",
            "Information sharing protocol",
            "Regular sharing both ways between organisations that each decide how they use it.",
            ("controller", "data_provider", "data_recipient"),
            ("controller", "data_provider", "data_recipient"),
            True,
            True,
        ),
        Template(
            "data_disclosure_agreement",
            "One-way disclosure",
            "One organisation discloses data to another, which becomes its controller.",
            ("controller", "data_provider"),
            ("recipient_controller", "data_recipient"),
            False,
            True,
        ),
        Template(
            "joint_controller_arrangement",
            "Joint controller arrangement",
            "Organisations that decide the purposes together, under UK GDPR Article 26.",
            ("joint_controller", "data_provider"),
            ("joint_controller", "data_recipient"),
            True,
            True,
        ),
        Template(
            "controller_processor_contract",
            "Controller-processor contract",
            "One organisation processes data only on another's instructions (Article 28).",
            ("controller", "data_provider"),
            ("processor", "data_recipient"),
            False,
            True,
        ),
        Template(
            "memorandum_of_understanding",
            "Memorandum of understanding",
            "Non-personal data (finance, service, organisational): handling terms only.",
            ("data_provider",),
            ("data_recipient",),
            False,
            False,
        ),
    )
}


@dataclass(frozen=True)
class PartyOrganisation:
    """An organisation as the template needs it: its id in the document, name, sector, codes."""

    party_id: str
    name: str
    sector: str
    gss_code: str = ""
    ods_code: str = ""
    ico_registration: str = ""


@dataclass(frozen=True)
class Prefill:
    """What a data request (or the drafter) already said."""

    title: str = ""
    question: str = ""
    reason: str = ""
    standards: Sequence[Standard] = ()
    frequency: Frequency | None = None


_DATA_TYPES = {
    "string": "string",
    "integer": "integer",
    "number": "decimal",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
}
_IDENTIFIER_TYPES = {
    "nhs_number": "nhs_number",
    "upn": "upn",
    "nino": "nino",
    "postcode": "postcode",
    "postcode_pseudo": "postcode",
    "uprn": "uprn",
    "usrn": "usrn",
    "gss": "gss_code",
    "ods": "ods_code",
    "urn": "urn_school",
    "laestab": "laestab",
    "cqc_location_id": "cqc_location_id",
}
# Identifiers of people: personal data even in a file that is otherwise about organisations.
_PERSON_IDENTIFIERS = frozenset({"nhs_number", "upn", "nino"})


def field_from_standard(column: StandardField) -> Field:
    """An agreement field for one column of a data standard. Personal columns start with no
    necessity justification: the drafter must say why each is needed (a rule checks it)."""
    identifier = _IDENTIFIER_TYPES.get(column.identifier or "")
    if column.identifier in _PERSON_IDENTIFIERS:
        category = "identifier"
    elif column.personal:
        category = "personal"
    else:
        category = "not_personal"
    data_type = "identifier" if identifier else _DATA_TYPES.get(column.type, "string")
    if column.enum or column.code_list:
        data_type = "code" if not identifier else data_type
    return Field.model_validate(
        {
            "name": column.name,
            "description": column.title,
            "data_type": data_type,
            "identifier_type": identifier,
            "code_list": column.code_list,
            "personal_data_category": category,
            "required": column.required,
        }
    )


def dataset_from_standard(standard: Standard, *, dataset_id: str, provider: str) -> Dataset:
    return Dataset(
        id=dataset_id,
        name=standard.title,
        provider_party_id=provider,
        description=standard.row_description or standard.description[:300],
        standard=f"{standard.slug}@{standard.version}",
        granularity="record_level_identifiable" if standard.personal_data else "aggregate",
        fields=[field_from_standard(column) for column in standard.fields],
    )


def _party(org: PartyOrganisation, roles: Sequence[PartyRole]) -> Party:
    identifiers = [
        {"scheme": scheme, "value": value}
        for scheme, value in (
            ("gss", org.gss_code),
            ("ods", org.ods_code),
            ("ico_registration", org.ico_registration),
        )
        if value
    ]
    return Party.model_validate(
        {
            "id": org.party_id,
            "name": org.name,
            "sector": org.sector,
            "roles": list(roles),
            "org_identifiers": identifiers,
        }
    )


def draft_document(
    *,
    agreement_type: str,
    clauses: Clauses,
    provider: PartyOrganisation,
    recipient: PartyOrganisation,
    prefill: Prefill = Prefill(),
    start: dt.date,
    also_to: Sequence[PartyOrganisation] = (),
) -> DataSharingAgreement:
    """A new draft of ``agreement_type`` between ``provider`` and ``recipient`` (and the
    recipients ``also_to``: one flow from the provider to all of them, as when a department
    publishes the same data to every council)."""
    template = TEMPLATES[agreement_type]
    recipients = [recipient, *also_to]
    datasets = [
        dataset_from_standard(standard, dataset_id=standard.slug, provider=provider.party_id)
        for standard in prefill.standards
    ]
    purpose = Purpose(
        id="purpose-1",
        title=prefill.title,
        description=prefill.question,
        benefits=prefill.reason,
    )
    flows: list[Flow] = []
    if datasets:
        flows.append(
            Flow(
                id=(
                    f"{provider.party_id}-to-{recipient.party_id}"
                    if not also_to
                    else f"{provider.party_id}-to-recipients"
                ),
                from_party_id=provider.party_id,
                to_party_ids=[r.party_id for r in recipients],
                dataset_ids=[d.id for d in datasets],
                purpose_ids=[purpose.id],
                direction="reciprocal" if template.reciprocal else "one_way",
                frequency=prefill.frequency,
                transfer_method="shared_platform_access",
                format="csv",
                actions=["view", "extract"],
            )
        )
    prohibited = load("prohibited_uses")
    review = add_months(start, clauses.review_months)
    document = DataSharingAgreement(
        id="new",
        title=prefill.title,
        agreement_type=template.agreement_type,
        jurisdictions=list(clauses.jurisdictions),
        term=Term(
            start_date=start,
            review_date=review,
            review_frequency_months=clauses.review_months,
        ),
        parties=[
            _party(provider, template.provider_roles),
            *(_party(r, template.recipient_roles) for r in recipients),
        ],
        purposes=[purpose],
        datasets=datasets,
        flows=flows,
        prohibited_uses=[
            ProhibitedUse(code=code, description=prohibited.get(code).label)
            for code in clauses.prohibited_uses
        ],
        publication=Publication.model_validate(
            {"published": True, "register": clauses.publication_register}
        ),
        termination=Termination(
            notice_days=clauses.termination_notice_days,
            on_termination="delete",
            certificate_required=True,
        ),
    )
    if not template.personal_data:
        return document.model_copy(update={"handling_caveats": HandlingCaveats()})
    return document.model_copy(
        update={
            "security": clauses.security,
            "breach_handling": BreachHandling(
                notify_parties_within_hours=clauses.breach_notify_hours
            ),
            "retention": [
                RetentionRule(
                    dataset_id=dataset.id,
                    party_id=r.party_id,
                    period=clauses.default_retention,
                    disposal_method="secure_delete",
                    evidence="certificate",
                )
                for dataset in datasets
                for r in recipients
            ],
            "rights_handling": RightsHandling(
                single_point_of_contact_party=provider.party_id,
                rectification_propagation=True,
            ),
        }
    )
