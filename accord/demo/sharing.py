"""Agreements in force for the demo (and the tests): drafted from a framework's one-way
disclosure template, completed as a DPO would complete them, signed by every party and made
active, every step through the agreements app's own actions (so each is audited, and the
grants the decision point reads are written on activation).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from django.utils import timezone

from accord.agreements import actions
from accord.agreements.document import (
    DataQuality,
    DataSharingAgreement,
    Dpia,
    LegalBasis,
    Purpose,
    ReportBack,
    RightsHandling,
    RowFilter,
    StatutoryGateway,
)
from accord.agreements.models import Agreement, Framework
from accord.agreements.rules import SIGNING_CODES, blockers, check
from accord.audit.actor import Actor
from accord.organisations.enums import Role
from accord.organisations.models import Membership, Organisation
from accord.standards.queries import get_standard

SIGNING_ROLES = (Role.DPO, Role.SENIOR_MANAGER)


@dataclass(frozen=True)
class Sharing:
    """What an agreement in force shares: for ``set_up_sharing``."""

    title: str
    purpose: str
    standard: str  # slug
    frequency: str = "weekly"
    actions: tuple[str, ...] = ("view", "extract")
    # Field name -> transformation before share ("pseudonymise_keyed_hash", "generalise",
    # "suppress", ...); fields not named are shared as they are.
    transformations: Mapping[str, str] | None = None
    # The column that limits each recipient to its own area's rows, if any.
    area_column: str = ""
    function_or_power: str = ""
    gateway: str = "ukdsa:gateway/la2011-s1"
    gateway_text: str = "Localism Act 2011 s1: the general power of competence"
    # What each recipient reports back to the provider, as (what, due) pairs: due an ISO-8601
    # duration from the term's start (repeating) or a date; and what the purpose expects.
    report_back: tuple[tuple[str, str], ...] = ()
    expected_outcomes: tuple[str, ...] = ()
    success_measures: tuple[str, ...] = ()
    # Special category (health and care) data: the fields that are, the Article 9 and DPA 2018
    # Schedule 1 conditions relied on (codes as in the vocabularies, e.g. "9.2.h", "s1p1.2"),
    # the appropriate policy document a Part 2 condition needs, and how the common-law duty of
    # confidentiality is met. Health or care data also needs the provider's Caldicott Guardian
    # to sign, which set_up_sharing arranges.
    health_fields: tuple[str, ...] = ()
    article9: tuple[str, ...] = ()
    schedule1: tuple[str, ...] = ()
    policy_document_url: str = ""
    confidentiality_basis: str = ""
    data_subjects: tuple[str, ...] = ("residents",)
    children_compelling_reason: str = ""  # given when the data covers children
    dpia_reasons: tuple[str, ...] = ("data_matching",)
    # For data to be linked: the identifiers records are matched on, and how.
    matching_keys: tuple[str, ...] = ()
    match_method: str = ""
    # Whether the National Data Opt-out applies to the flows (None: the agreement says
    # nothing, and it does not apply).
    national_data_opt_out: bool | None = None


class SharingNotReady(RuntimeError):
    """The completed draft still has blockers: the demo's data is out of step with the rules."""


def signer_for(organisation: Organisation) -> Actor:
    """A member of ``organisation`` who may draft, sign and activate: an existing member with
    the DPO and senior manager roles, or a new synthetic one."""
    from accord.organisations.actors import actor_for

    needed = {str(role) for role in SIGNING_ROLES}
    membership = next(
        (
            m
            for m in Membership.objects.filter(organisation=organisation, is_active=True)
            .select_related("user", "organisation")
            .order_by("pk")
            if needed <= set(m.roles or ())
        ),
        None,
    )
    if membership is None:
        membership = _synthetic_signatory(organisation)
    return actor_for(membership.user, membership)


def caldicott_guardian_for(organisation: Organisation) -> Actor:
    """A member of ``organisation`` who is its Caldicott Guardian: an existing one, or a new
    synthetic one."""
    from accord.organisations.actors import actor_for

    membership = next(
        (
            m
            for m in Membership.objects.filter(
                organisation=organisation, is_active=True, user__is_active=True
            )
            .select_related("user", "organisation")
            .order_by("pk")
            if str(Role.CALDICOTT_GUARDIAN) in set(m.roles or ())
        ),
        None,
    )
    if membership is None:
        membership = _synthetic_signatory(
            organisation, roles=(Role.CALDICOTT_GUARDIAN,), local="caldicott"
        )
    return actor_for(membership.user, membership)


def _synthetic_signatory(
    organisation: Organisation,
    roles: Sequence[Role] = SIGNING_ROLES,
    local: str = "signatory",
) -> Membership:
    """A signatory account (no password: it cannot sign in) for an organisation with no
    member who may sign, made and added through audited steps like any other account."""
    from django.db import transaction

    from accord.audit.actions import record
    from accord.organisations.actions import add_member
    from accord.organisations.models import User

    from .loader import demo_actor

    username = f"{local}-{organisation.pk}@signatories.accord.invalid"
    user = User.objects.filter(username=username).first()
    if user is None:
        with transaction.atomic():
            user = User(
                username=username,
                email=username,
                first_name="Signatory",
                last_name="(synthetic)",
            )
            user.set_unusable_password()
            user.save()
            record(
                by=demo_actor(),
                action="account.created",
                target=f"user:{user.pk}",
                details={"email": username, "via": "synthetic signatory"},
                subject_organisation_id=str(organisation.pk),
            )
    found = Membership.objects.filter(user=user, organisation=organisation).first()
    if found is not None:
        return found
    return add_member(
        by=demo_actor(),
        organisation=organisation,
        user=user,
        roles=[str(role) for role in roles],
    )


def _complete(
    document: DataSharingAgreement, sharing: Sharing, today: dt.date
) -> DataSharingAgreement:
    """Fill in what a DPO would before sending it for signature."""
    standard = get_standard(sharing.standard)
    changes = dict(sharing.transformations or {})
    datasets = []
    for dataset in document.datasets:
        fields = []
        for field in dataset.fields:
            change: dict[str, object] = {}
            if field.name in sharing.health_fields:
                field = field.model_copy(
                    update={"personal_data_category": "special_category_health"}
                )
            if field.personal_data_category != "not_personal" and not field.necessity_justification:
                change["necessity_justification"] = (
                    f"Needed for {sharing.purpose.lower()}; the agreement's conditions apply."
                )
            if field.name in changes:
                change["transformation_before_share"] = changes[field.name]
            fields.append(field.model_copy(update=change))
        datasets.append(dataset.model_copy(update={"fields": fields}))
    flows = [
        flow.model_copy(
            update={
                "actions": list(sharing.actions),
                "frequency": sharing.frequency,
                "row_filter": (
                    RowFilter(column=sharing.area_column, scope="recipient_area")
                    if sharing.area_column
                    else None
                ),
            }
        )
        for flow in document.flows
    ]
    purpose = Purpose(
        id="purpose-1",
        title=sharing.purpose,
        description=sharing.purpose,
        function_or_power=sharing.function_or_power or sharing.gateway_text,
        expected_outcomes=list(sharing.expected_outcomes),
        success_measures=list(sharing.success_measures),
    )
    update: dict[str, object] = {
        "title": sharing.title,
        "purposes": [purpose],
        "datasets": datasets,
        "flows": flows,
    }
    if sharing.national_data_opt_out is not None:
        update["rights_handling"] = (document.rights_handling or RightsHandling()).model_copy(
            update={"national_data_opt_out_applied": sharing.national_data_opt_out}
        )
    if sharing.report_back:
        providers = list(dict.fromkeys(f.from_party_id for f in flows if f.from_party_id))
        update["report_back"] = [
            ReportBack(what=what, due=due, to_party_ids=providers)
            for what, due in sharing.report_back
        ]
    if standard.personal_data:
        update["legal_basis"] = LegalBasis.model_validate(
            {
                "article6": ["6.1.e"],
                "article9": list(sharing.article9),
                "dpa2018_schedule1": list(sharing.schedule1),
                "appropriate_policy_document_url": sharing.policy_document_url or None,
                "confidentiality_basis": sharing.confidentiality_basis or None,
                "statutory_gateways": [
                    StatutoryGateway(
                        code=sharing.gateway,
                        provision_text=sharing.gateway_text,
                        power_type="power",
                    )
                ],
            }
        )
        update["data_subjects"] = list(sharing.data_subjects)
        if sharing.children_compelling_reason:
            update["children_data"] = True
            update["children_compelling_reason"] = sharing.children_compelling_reason
        if sharing.matching_keys:
            update["data_quality"] = (document.data_quality or DataQuality()).model_copy(
                update={
                    "matching_keys": list(sharing.matching_keys),
                    "match_method": sharing.match_method or None,
                }
            )
        update["dpia"] = Dpia.model_validate(
            {
                "required": True,
                "screening_reason": list(sharing.dpia_reasons),
                "reference": f"DPIA-{today:%Y}-{sharing.standard}",
                "completed_date": today,
                "outcome": "proceed_with_mitigations",
                "residual_risk": "low",
                "dpo_advice_recorded": True,
            }
        )
    return document.model_copy(update=update)


def set_up_sharing(
    *,
    framework: Framework,
    provider: Organisation,
    recipients: Sequence[Organisation],
    sharing: Sharing,
    today: dt.date | None = None,
    adjust: Callable[[DataSharingAgreement], DataSharingAgreement] | None = None,
) -> Agreement:
    """An active agreement by which ``provider`` shares ``sharing.standard`` with every one of
    ``recipients`` (members of ``framework``), as ``sharing`` says."""
    today = today or timezone.localdate()
    drafter = signer_for(provider)
    agreement = actions.draft_from_framework(
        by=drafter,
        framework=framework,
        agreement_type="data_disclosure_agreement",
        provider=provider,
        recipient=recipients[0],
        also_to=list(recipients[1:]),
        title=sharing.title,
        standards=[get_standard(sharing.standard)],
        frequency=sharing.frequency,
        today=today,
    )
    document = _complete(actions.document_of(agreement), sharing, today)
    if adjust is not None:
        document = adjust(document)
    found = blockers(check(document, today=today))
    problems = [f"{f.code}: {f.message}" for f in found if f.code not in SIGNING_CODES]
    if problems:
        raise SharingNotReady("; ".join(problems))
    # Health or care data: the provider's Caldicott Guardian signs as well.
    caldicott = any(f.code == "CALDICOTT_GUARDIAN_SIGNATURE_MISSING" for f in found)
    actions.save_draft(by=drafter, agreement=agreement, document=document, today=today)
    actions.submit(by=drafter, agreement=agreement, today=today)
    for organisation in (provider, *recipients):
        person = signer_for(organisation)
        for role in SIGNING_ROLES:
            agreement.refresh_from_db()
            if agreement.status == "in_review" and role in person.roles:
                actions.sign(by=person, agreement=agreement, role=role, today=today)
    agreement.refresh_from_db()
    if caldicott and agreement.status == "in_review":
        guardian = caldicott_guardian_for(provider)
        actions.sign(
            by=guardian, agreement=agreement, role=str(Role.CALDICOTT_GUARDIAN), today=today
        )
        agreement.refresh_from_db()
    actions.activate(by=drafter, agreement=agreement, today=today)
    agreement.refresh_from_db()
    return agreement
