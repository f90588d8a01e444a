"""Legal and consistency checks on a data sharing agreement.

``check`` is a pure function: it reads an agreement (and the date to judge review
deadlines against) and returns findings. A *blocker* stops an agreement being
approved or activated; a *warning* should be read and either fixed or accepted.
The checks are status-agnostic, so a draft simply shows what is still to do.

Rules follow the v0.1 schema's validation rules (agreements-and-law reference §1.5
to §1.7) plus Accord's own checks on flows, which the access layer relies on.
Messages are written for a data protection officer: what is wrong, and how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from accord.agreements.document import DataSharingAgreement, Field, Flow, LegalBasis, Party

Severity = Literal["blocker", "warning"]


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    path: str


# Sectors that are not public authorities for Art 6(1) purposes.
NON_PUBLIC_SECTORS = frozenset(
    {"commercial", "vcs", "housing_association", "care_provider", "university"}
)
HEALTH_AND_CARE_SECTORS = frozenset(
    {"nhs_england", "icb", "nhs_trust", "gp_practice", "health_board", "care_provider"}
)
SPECIAL_CATEGORIES = frozenset(
    {"special_category_health", "special_category_ethnicity", "special_category_other"}
)
RECORD_LEVEL = frozenset({"record_level_identifiable", "record_level_pseudonymised"})
TERMINAL_STATUSES = frozenset({"expired", "terminated", "superseded"})

MAX_REVIEW_MONTHS = 36
REVIEW_OVERDUE_DAYS = 90
REVIEW_DUE_SOON_DAYS = 60

ARTICLE9_LABELS = {
    "9.2.b": "Article 9(2)(b) (employment and social protection)",
    "9.2.g": "Article 9(2)(g) (substantial public interest)",
    "9.2.h": "Article 9(2)(h) (health or social care)",
    "9.2.i": "Article 9(2)(i) (public health)",
    "9.2.j": "Article 9(2)(j) (archiving, research or statistics)",
}
ARTICLE9_SCHEDULE1_HINT = {
    "9.2.b": "Schedule 1 paragraph 1 (employment, social security and social protection)",
    "9.2.g": "a Schedule 1 Part 2 condition (for example paragraph 6, 10 or 18)",
    "9.2.h": "Schedule 1 paragraph 2 (health or social care purposes)",
    "9.2.i": "Schedule 1 paragraph 3 (public health)",
    "9.2.j": "Schedule 1 paragraph 4 (research etc.)",
}


def _schedule1_satisfies(article: str, conditions: Iterable[str]) -> bool:
    conditions = list(conditions)
    if article == "9.2.g":
        return any(c.startswith("s1p2.") for c in conditions)
    wanted = {"9.2.b": "s1p1.1", "9.2.h": "s1p1.2", "9.2.i": "s1p1.3", "9.2.j": "s1p1.4"}
    return wanted[article] in conditions


def is_public_body(party: Party) -> bool:
    """True for parties whose sector is a public authority (unknown sector counts as not)."""
    return party.sector is not None and party.sector not in NON_PUBLIC_SECTORS


def _is_personal(field: Field) -> bool:
    return field.personal_data_category != "not_personal"


def _fields(agreement: DataSharingAgreement) -> Iterator[tuple[str, Field]]:
    for d, dataset in enumerate(agreement.datasets):
        for f, field in enumerate(dataset.fields):
            yield f"datasets[{d}].fields[{f}]", field


def has_personal_data(agreement: DataSharingAgreement) -> bool:
    return any(_is_personal(field) for _, field in _fields(agreement))


def _names(items: Iterable[str]) -> str:
    quoted = [f"'{item}'" for item in dict.fromkeys(items)]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _public_body_phrase(names: list[str]) -> str:
    return "is a public body" if len(names) == 1 else "are public bodies"


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the end of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    next_month = date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return date(year, month, min(day.day, last_day))


def check(agreement: DataSharingAgreement, *, today: date) -> list[Finding]:
    """All findings for ``agreement``, judged as at ``today``."""
    findings: list[Finding] = []
    for rule in RULES:
        findings.extend(rule(agreement, today))
    return findings


def blockers(findings: Iterable[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.severity == "blocker"]


def warnings(findings: Iterable[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.severity == "warning"]


# --- structure -----------------------------------------------------------------------


def _structure(a: DataSharingAgreement, today: date) -> Iterator[Finding]:
    if len(a.parties) < 2:
        yield Finding(
            "TOO_FEW_PARTIES",
            "blocker",
            "An agreement needs at least two parties. Add the organisations sharing or "
            "receiving the data under Parties.",
            "parties",
        )
    if not a.purposes:
        yield Finding(
            "NO_PURPOSE",
            "blocker",
            "The agreement has no purpose. Add at least one purpose saying why the data "
            "is shared and which function or power it supports.",
            "purposes",
        )
    if not a.datasets:
        yield Finding(
            "NO_DATASET",
            "blocker",
            "The agreement names no datasets. Add the data being shared under Datasets.",
            "datasets",
        )
    if not a.flows:
        yield Finding(
            "NO_FLOW",
            "blocker",
            "The agreement has no flows. Add at least one flow saying who sends which "
            "dataset to whom, and for which purpose.",
            "flows",
        )
    for collection, item_ids in (
        ("parties", [p.id for p in a.parties]),
        ("purposes", [p.id for p in a.purposes]),
        ("datasets", [d.id for d in a.datasets]),
        ("flows", [f.id for f in a.flows]),
    ):
        seen: set[str] = set()
        for index, item_id in enumerate(item_ids):
            if item_id in seen:
                yield Finding(
                    "DUPLICATE_ID",
                    "blocker",
                    f"The id '{item_id}' is used twice in {collection}. Give each entry "
                    "its own id.",
                    f"{collection}[{index}].id",
                )
            seen.add(item_id)


def _references(a: DataSharingAgreement, today: date) -> Iterator[Finding]:
    parties = {p.id for p in a.parties}
    purposes = {p.id for p in a.purposes}
    datasets = {d.id: d for d in a.datasets}

    def unknown_party(party_id: str | None, path: str, what: str) -> Iterator[Finding]:
        if party_id is not None and party_id not in parties:
            yield Finding(
                "UNKNOWN_PARTY",
                "blocker",
                f"{what} refers to party '{party_id}', which is not one of the parties. "
                "Add that party or choose an existing one.",
                path,
            )

    for index, dataset in enumerate(a.datasets):
        yield from unknown_party(
            dataset.provider_party_id,
            f"datasets[{index}].provider_party_id",
            f"Dataset '{dataset.name or dataset.id}'",
        )
    for index, rule in enumerate(a.retention):
        yield from unknown_party(rule.party_id, f"retention[{index}].party_id", "A retention rule")
        if rule.dataset_id not in datasets:
            yield Finding(
                "UNKNOWN_DATASET",
                "blocker",
                f"A retention rule refers to dataset '{rule.dataset_id}', which is not in "
                "the agreement. Add that dataset or choose an existing one.",
                f"retention[{index}].dataset_id",
            )
    for index, sig in enumerate(a.signatories):
        yield from unknown_party(sig.party_id, f"signatories[{index}].party_id", "A signature")
    for index, report in enumerate(a.report_back):
        for p, party_id in enumerate(report.to_party_ids):
            yield from unknown_party(
                party_id, f"report_back[{index}].to_party_ids[{p}]", f"Report-back '{report.what}'"
            )
    if a.onward_sharing is not None:
        for p, party_id in enumerate(a.onward_sharing.permitted_recipients):
            yield from unknown_party(
                party_id,
                f"onward_sharing.permitted_recipients[{p}]",
                "Onward sharing",
            )
    if a.rights_handling is not None:
        yield from unknown_party(
            a.rights_handling.single_point_of_contact_party,
            "rights_handling.single_point_of_contact_party",
            "Rights handling",
        )
    if a.breach_handling is not None:
        yield from unknown_party(
            a.breach_handling.ico_notification_owner,
            "breach_handling.ico_notification_owner",
            "Breach handling",
        )
    if a.security is not None:
        yield from unknown_party(
            a.security.pseudonymisation_key_holder,
            "security.pseudonymisation_key_holder",
            "Security",
        )

    for index, flow in enumerate(a.flows):
        path = f"flows[{index}]"
        label = f"Flow '{flow.id}'"
        if flow.from_party_id is None:
            yield Finding(
                "FLOW_NO_SENDER",
                "blocker",
                f"{label} does not say which party sends the data. Choose the sending party.",
                f"{path}.from_party_id",
            )
        else:
            yield from unknown_party(flow.from_party_id, f"{path}.from_party_id", label)
        if not flow.to_party_ids:
            yield Finding(
                "FLOW_NO_RECIPIENT",
                "blocker",
                f"{label} has no recipient. Choose at least one receiving party.",
                f"{path}.to_party_ids",
            )
        for p, party_id in enumerate(flow.to_party_ids):
            yield from unknown_party(party_id, f"{path}.to_party_ids[{p}]", label)
        if not flow.dataset_ids:
            yield Finding(
                "FLOW_NO_DATASET",
                "blocker",
                f"{label} shares no dataset. Choose the dataset(s) it carries.",
                f"{path}.dataset_ids",
            )
        for d, dataset_id in enumerate(flow.dataset_ids):
            if dataset_id not in datasets:
                yield Finding(
                    "UNKNOWN_DATASET",
                    "blocker",
                    f"{label} refers to dataset '{dataset_id}', which is not in the "
                    "agreement. Add that dataset or choose an existing one.",
                    f"{path}.dataset_ids[{d}]",
                )
        if not flow.purpose_ids:
            yield Finding(
                "FLOW_NO_PURPOSE",
                "blocker",
                f"{label} is not linked to a purpose. Choose the purpose(s) it serves.",
                f"{path}.purpose_ids",
            )
        for p, purpose_id in enumerate(flow.purpose_ids):
            if purpose_id not in purposes:
                yield Finding(
                    "UNKNOWN_PURPOSE",
                    "blocker",
                    f"{label} refers to purpose '{purpose_id}', which is not in the "
                    "agreement. Add that purpose or choose an existing one.",
                    f"{path}.purpose_ids[{p}]",
                )
        if not flow.actions:
            yield Finding(
                "FLOW_NO_ACTIONS",
                "blocker",
                f"{label} does not say what recipients may do with the data. Choose at "
                "least one of view, extract, aggregate only or link.",
                f"{path}.actions",
            )
        if "aggregate_only" in flow.actions and "extract" in flow.actions:
            yield Finding(
                "FLOW_AGGREGATE_ONLY_WITH_EXTRACT",
                "blocker",
                f"{label} is marked 'aggregate only' but also allows extracting records, "
                "which contradicts it. Remove one of the two.",
                f"{path}.actions",
            )
        row_filter = flow.row_filter
        if row_filter is not None:
            if row_filter.scope == "named_values" and not row_filter.values:
                yield Finding(
                    "ROW_FILTER_NO_VALUES",
                    "blocker",
                    f"{label} limits rows to named values of '{row_filter.column}' but "
                    "lists none. Add the values recipients may see.",
                    f"{path}.row_filter.values",
                )
            columns = {
                field.name
                for dataset_id in flow.dataset_ids
                if dataset_id in datasets
                for field in datasets[dataset_id].fields
            }
            if columns and row_filter.column not in columns:
                yield Finding(
                    "ROW_FILTER_UNKNOWN_COLUMN",
                    "blocker",
                    f"{label} filters rows on column '{row_filter.column}', which is not a "
                    "field of the datasets it shares. Choose one of their fields.",
                    f"{path}.row_filter.column",
                )


# --- data protection ----------------------------------------------------------------


def _necessity(a: DataSharingAgreement, today: date) -> Iterator[Finding]:
    for path, field in _fields(a):
        if _is_personal(field) and not (field.necessity_justification or "").strip():
            yield Finding(
                "NECESSITY_JUSTIFICATION_MISSING",
                "blocker",
                f"Field '{field.name}' is personal data, so the agreement must say why it "
                "is needed (data minimisation). Add a necessity justification, or remove "
                "the field.",
                f"{path}.necessity_justification",
            )


def _memorandum(a: DataSharingAgreement, today: date) -> Iterator[Finding]:
    if a.agreement_type != "memorandum_of_understanding":
        return
    personal = [field.name for _, field in _fields(a) if _is_personal(field)]
    if personal:
        yield Finding(
            "MOU_WITH_PERSONAL_DATA",
            "blocker",
            f"Personal data needs an information sharing agreement, not an MoU: "
            f"{_names(personal)} {'is' if len(personal) == 1 else 'are'} personal data. "
            "Change the agreement type, or remove the personal fields.",
            "agreement_type",
        )


def _special_category(a: DataSharingAgreement, today: date) -> Iterator[Finding]:
    basis = a.legal_basis
    special = [
        field.name for _, field in _fields(a) if field.personal_data_category in SPECIAL_CATEGORIES
    ]
    if special and not basis.article9:
        many = len(special) > 1
        yield Finding(
            "ARTICLE9_MISSING",
            "blocker",
            f"Field{'s' if many else ''} {_names(special)} {'are' if many else 'is'} special "
            "category data, so the agreement needs an Article 9 condition. Choose one under "
            "Legal basis.",
            "legal_basis.article9",
        )
    for article in basis.article9:
        if article in ARTICLE9_LABELS and not _schedule1_satisfies(
            article, basis.dpa2018_schedule1
        ):
            yield Finding(
                "SCHEDULE1_CONDITION_MISSING",
                "blocker",
                f"{ARTICLE9_LABELS[article]} also needs a condition from Schedule 1 of the "
                f"Data Protection Act 2018. Add {ARTICLE9_SCHEDULE1_HINT[article]} under "
                "Legal basis.",
                "legal_basis.dpa2018_schedule1",
            )
    needs_policy = [c for c in basis.dpa2018_schedule1 if c.startswith("s1p2.") or c == "s1p1.1"]
    if needs_policy and not (basis.appropriate_policy_document_url or "").strip():
        yield Finding(
            "APPROPRIATE_POLICY_DOCUMENT_MISSING",
            "blocker",
            f"Schedule 1 condition {_names(needs_policy)} requires an appropriate policy "
            "document. Add a link to it under Legal basis.",
            "legal_basis.appropriate_policy_document_url",
        )


def _criminal_offence(a: DataSharingAgreement, today: date) -> Iterator[Finding]:
    fields = [
        field.name for _, field in _fields(a) if field.personal_data_category == "criminal_offence"
    ]
    if not fields:
        return
    basis = a.legal_basis
    part3 = basis.dpa2018_part3 is not None and basis.dpa2018_part3.applies
    if part3 or (basis.article10 and basis.dpa2018_schedule1):
        return
    yield Finding(
        "CRIMINAL_OFFENCE_BASIS_MISSING",
        "blocker",
        f"{_names(fields)} {'is' if len(fields) == 1 else 'are'} criminal offence data. "
        "Either confirm Article 10 and choose a Schedule 1 condition, or record that the "
        "sharing is for law enforcement under Part 3 of the Data Protection Act 2018.",
        "legal_basis.article10",
    )


def _legitimate_interests(a: DataSharingAgreement, today: date) -> Iterator[Finding]:
    parties = {p.id: p for p in a.parties}

    def check_basis(basis: LegalBasis, party_ids: Iterable[str], path: str) -> Iterator[Finding]:
        if "6.1.f" not in basis.article6:
            return
        public = [
            parties[pid].name or pid
            for pid in dict.fromkeys(party_ids)
            if pid in parties and is_public_body(parties[pid])
        ]
        if public:
            yield Finding(
                "LEGITIMATE_INTERESTS_PUBLIC_BODY",
                "blocker",
                f"{_names(public)} {_public_body_phrase(public)}"
                ", and public bodies cannot rely on legitimate interests (Article 6(1)(f)) for "
                "their public tasks. Use public task (6(1)(e)) or another basis instead.",
                f"{path}.article6",
            )
        elif not (basis.legitimate_interest_assessment_ref or "").strip():
            yield Finding(
                "LEGITIMATE_INTERESTS_ASSESSMENT_MISSING",
                "warning",
                "The agreement relies on legitimate interests (Article 6(1)(f)) but records no "
                "legitimate interests assessment. Add its reference under Legal basis.",
                f"{path}.legitimate_interest_assessment_ref",
            )

    overridden = [f for f in a.flows if f.legal_basis_override is not None]
    default_parties = (
        [pid for f in a.flows if f.legal_basis_override is None for pid in _flow_parties(f)]
        if len(overridden) < len(a.flows)
        else []
    )
    if not a.flows:
        default_parties = list(parties)
    yield from check_basis(a.legal_basis, default_parties, "legal_basis")
    for index, flow in enumerate(a.flows):
        if flow.legal_basis_override is not None:
            yield from check_basis(
                flow.legal_basis_override,
                _flow_parties(flow),
                f"flows[{index}].legal_basis_override",
            )


def _flow_parties(flow: Flow) -> list[str]:
    return ([flow.from_party_id] if flow.from_party_id else []) + list(flow.to_party_ids)


def _controllers(a: DataSharingAgreement, today: date) -> Iterator[Finding]:
    if a.agreement_type == "joint_controller_arrangement":
        joint = [p for p in a.parties if "joint_controller" in p.roles]
        if len(joint) < 2:
            yield Finding(
                "JOINT_CONTROLLERS_TOO_FEW",
                "blocker",
                "A joint controller arrangement (Article 26) needs at least two parties with "
                f"the joint controller role; this one has {len(joint)}. Set the role on each "
                "joint controller.",
                "parties",
            )
        if a.rights_handling is None or not a.rights_handling.single_point_of_contact_party:
            yield Finding(
                "SINGLE_POINT_OF_CONTACT_MISSING",
                "blocker",
                "Joint controllers must say which of them people contact to use their data "
                "protection rights (Article 26(1)). Choose a single point of contact under "
                "Rights handling.",
                "rights_handling.single_point_of_contact_party",
            )
    if a.agreement_type == "controller_processor_contract":
        listed = a.onward_sharing is not None and a.onward_sharing.processors
        processor_parties = any("processor" in p.roles for p in a.parties)
        if not (listed or processor_parties):
            yield Finding(
                "PROCESSORS_NOT_LISTED",
                "blocker",
                "A controller-processor contract (Article 28) must name its processors. Give "
                "the processor party the processor role, or list processors under Onward "
                "sharing.",
                "onward_sharing.processors",
            )


def _gateways(a: DataSharingAgreement, today: date) -> Iterator[Finding]:
    if not has_personal_data(a) or a.legal_basis.statutory_gateways:
        return
    public = [p.name or p.id for p in a.parties if is_public_body(p)]
    if public:
        yield Finding(
            "STATUTORY_GATEWAY_MISSING",
            "warning",
            f"{_names(public)} {_public_body_phrase(public)}"
            " and needs a legal power to share. Add the statutory gateway relied on, or record "
            "an implied power (for example Localism Act 2011 s1) under Legal basis.",
            "legal_basis.statutory_gateways",
        )


def _dpia(a: DataSharingAgreement, today: date) -> Iterator[Finding]:
    matched = [
        d
        for d in a.datasets
        if d.granularity in RECORD_LEVEL and any(f.identifier_type for f in d.fields)
    ]
    if len(matched) > 1 and not (a.dpia is not None and a.dpia.required):
        yield Finding(
            "DPIA_REQUIRED",
            "blocker",
            f"Datasets {_names(d.name or d.id for d in matched)} are record-level and can be "
            "matched on an identifier. Combining data from several sources is high risk, so a "
            "DPIA is required. Mark the DPIA as required and record it.",
            "dpia.required",
        )


def _health_and_care(a: DataSharingAgreement, today: date) -> Iterator[Finding]:
    health_fields = any(
        f.personal_data_category == "special_category_health" for _, f in _fields(a)
    )
    health_sector = any(p.sector in HEALTH_AND_CARE_SECTORS for p in a.parties)
    if not (health_fields or (health_sector and has_personal_data(a))):
        return
    if a.legal_basis.confidentiality_basis is None:
        yield Finding(
            "CONFIDENTIALITY_BASIS_MISSING",
            "blocker",
            "The agreement shares confidential health or care information, so it must say how "
            "the common-law duty of confidentiality is met (for example implied consent for "
            "individual care, or s251 support). Choose a confidentiality basis under Legal basis.",
            "legal_basis.confidentiality_basis",
        )
    if not any(s.role == "caldicott_guardian" for s in a.signatories):
        yield Finding(
            "CALDICOTT_GUARDIAN_SIGNATURE_MISSING",
            "blocker",
            "The agreement shares confidential health or care information, so a Caldicott "
            "Guardian must sign it. Add a Caldicott Guardian signature.",
            "signatories",
        )


def _children(a: DataSharingAgreement, today: date) -> Iterator[Finding]:
    if a.children_data and not (a.children_compelling_reason or "").strip():
        yield Finding(
            "CHILDREN_COMPELLING_REASON_MISSING",
            "blocker",
            "The agreement covers children's data, so it must record the compelling reason for "
            "sharing it, taking account of the child's best interests. Add it under Data "
            "subjects.",
            "children_compelling_reason",
        )
    if not a.children_data and {"children", "pupils"} & set(a.data_subjects):
        yield Finding(
            "CHILDREN_DATA_NOT_FLAGGED",
            "warning",
            "The data subjects include children or pupils but the agreement says it does not "
            "cover children's data. Tick 'children's data' and record the compelling reason.",
            "children_data",
        )


def _term(a: DataSharingAgreement, today: date) -> Iterator[Finding]:
    term = a.term
    if term is None or term.review_date is None:
        yield Finding(
            "REVIEW_DATE_MISSING",
            "blocker",
            "The agreement has no review date. Set one, no more than 36 months after it starts.",
            "term.review_date",
        )
        return
    review = term.review_date
    if term.start_date is not None:
        latest = add_months(term.start_date, MAX_REVIEW_MONTHS)
        if review > latest:
            yield Finding(
                "REVIEW_DATE_TOO_LATE",
                "blocker",
                f"The review date {review.isoformat()} is more than {MAX_REVIEW_MONTHS} months "
                f"after the start date. Set it on or before {latest.isoformat()}.",
                "term.review_date",
            )
        if review < term.start_date:
            yield Finding(
                "REVIEW_BEFORE_START",
                "blocker",
                f"The review date {review.isoformat()} is before the start date "
                f"{term.start_date.isoformat()}. Correct one of them.",
                "term.review_date",
            )
        if term.end_date is not None and term.end_date < term.start_date:
            yield Finding(
                "END_BEFORE_START",
                "blocker",
                f"The end date {term.end_date.isoformat()} is before the start date "
                f"{term.start_date.isoformat()}. Correct one of them.",
                "term.end_date",
            )
    if a.status in TERMINAL_STATUSES:
        return
    days_past = (today - review).days
    if days_past > REVIEW_OVERDUE_DAYS:
        yield Finding(
            "REVIEW_OVERDUE",
            "warning",
            f"The review was due on {review.isoformat()}, {days_past} days ago. Agreements more "
            f"than {REVIEW_OVERDUE_DAYS} days past review should be reviewed now, or suspended.",
            "term.review_date",
        )
    elif days_past > 0:
        yield Finding(
            "REVIEW_PAST_DUE",
            "warning",
            f"The review was due on {review.isoformat()}, {days_past} days ago. Review the "
            "agreement and set the next review date.",
            "term.review_date",
        )
    elif -days_past <= REVIEW_DUE_SOON_DAYS:
        yield Finding(
            "REVIEW_DUE_SOON",
            "warning",
            f"The review is due on {review.isoformat()}, in {-days_past} days. Plan the review "
            "with the other parties.",
            "term.review_date",
        )


def _signatures(a: DataSharingAgreement, today: date) -> Iterator[Finding]:
    personal = has_personal_data(a)
    for index, party in enumerate(a.parties):
        signed = [s for s in a.signatories if s.party_id == party.id]
        label = party.name or party.id
        if not signed:
            yield Finding(
                "PARTY_NOT_SIGNED",
                "blocker",
                f"{label} has not signed. Each party needs at least one signature from a "
                "senior manager or other approver.",
                f"parties[{index}]",
            )
        if personal and is_public_body(party) and not any(s.role == "dpo" for s in signed):
            yield Finding(
                "DPO_NOT_CONSULTED",
                "blocker",
                f"{label} is a public body, so its data protection officer must be consulted. "
                "Add a signature from its DPO.",
                f"parties[{index}]",
            )


# Blockers that only signing clears: a draft may go for review with these outstanding.
SIGNING_CODES = frozenset(
    {"PARTY_NOT_SIGNED", "DPO_NOT_CONSULTED", "CALDICOTT_GUARDIAN_SIGNATURE_MISSING"}
)


def drafting_blockers(findings: Iterable[Finding]) -> list[Finding]:
    """Blockers the drafters must clear before the parties are asked to sign."""
    return [f for f in blockers(findings) if f.code not in SIGNING_CODES]


RULES = (
    _structure,
    _references,
    _necessity,
    _memorandum,
    _special_category,
    _criminal_offence,
    _legitimate_interests,
    _controllers,
    _gateways,
    _dpia,
    _health_and_care,
    _children,
    _term,
    _signatures,
)
