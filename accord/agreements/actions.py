"""Writes to agreements, each with its audit event in the same transaction.

Every move goes through :func:`accord.agreements.lifecycle.move`, so no status change happens
that the lifecycle table does not have; approving and activating also refuse while the legal
rule checks (:mod:`accord.agreements.rules`) report any blocker.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping

from django.utils import timezone

from accord.audit.actions import audited, record
from accord.audit.actor import Actor, ActorKind
from accord.audit.exceptions import NotPermitted, Refused
from accord.organisations.models import Organisation

from . import lifecycle, rules
from .document import DataSharingAgreement, Signature, to_canonical_json
from .models import Agreement, AgreementParty, AgreementVersion
from .models import Signature as SignatureRow
from .vocabularies import load

SIGNATORY_ROLES = frozenset(load("signatory_roles").codes())


def _target(agreement: Agreement) -> str:
    return f"agreement:{agreement.pk}"


def _digest(document: DataSharingAgreement) -> str:
    return hashlib.sha256(to_canonical_json(document).encode()).hexdigest()


def _counts(document: DataSharingAgreement, today: dt.date) -> dict[str, int]:
    findings = rules.check(document, today=today)
    return {
        "blockers": len(rules.blockers(findings)),
        "warnings": len(findings) - len(rules.blockers(findings)),
    }


def _party_ids(agreement: Agreement) -> dict[str, str]:
    """organisation pk (text) → the document's party id."""
    return {
        str(organisation_id): party_id
        for organisation_id, party_id in agreement.parties.values_list(
            "organisation_id", "party_id"
        )
    }


def _require_party_member(by: Actor, agreement: Agreement) -> str:
    """The party id ``by`` acts for; only parties' members (and set-up commands) may act."""
    if by.kind is ActorKind.SYSTEM:
        return ""
    party_id = _party_ids(agreement).get(by.organisation_id)
    if party_id is None:
        raise NotPermitted(
            "Only members of the organisations that are parties to this agreement can do this.",
            target=_target(agreement),
        )
    return party_id


@audited("agreement.drafted")
def start_draft(
    *,
    by: Actor,
    document: DataSharingAgreement,
    parties: Mapping[str, Organisation],
    today: dt.date | None = None,
) -> Agreement:
    """Start a draft agreement from ``document``; ``parties`` maps each of its party ids to
    the organisation that is that party. The drafter must act for one of them."""
    today = today or timezone.localdate()
    declared = {party.id for party in document.parties}
    if set(parties) != declared:
        raise Refused(
            "Every party in the agreement must be matched to an organisation on Accord "
            f"(the agreement names {', '.join(sorted(declared)) or 'none'}).",
        )
    drafter = next((org for org in parties.values() if str(org.pk) == by.organisation_id), None)
    if drafter is None:
        raise NotPermitted("You can only draft an agreement your organisation is a party to.")
    document = document.model_copy(update={"status": "draft"})
    # A new draft gets its own id, whatever the document it started from carried.
    agreement = Agreement.objects.create(
        title=document.title or "Untitled agreement",
        agreement_type=document.agreement_type,
        drafted_by=drafter,
    )
    document = document.model_copy(update={"id": str(agreement.pk)})
    AgreementVersion.objects.create(
        agreement=agreement,
        number=1,
        document=document.model_dump(mode="json", by_alias=True),
        digest=_digest(document),
        created_by=by.label,
    )
    AgreementParty.objects.bulk_create(
        AgreementParty(agreement=agreement, organisation=org, party_id=party_id)
        for party_id, org in parties.items()
    )
    record(
        by=by,
        action="agreement.drafted",
        target=_target(agreement),
        details={
            "title": agreement.title,
            "agreement_type": agreement.agreement_type,
            "parties": sorted(org.name for org in parties.values()),
            **_counts(document, today),
        },
    )
    return agreement


def document_of(agreement: Agreement) -> DataSharingAgreement:
    """The current version's document."""
    return DataSharingAgreement.model_validate(agreement.current.document)


@audited("agreement.draft_saved")
def save_draft(
    *,
    by: Actor,
    agreement: Agreement,
    document: DataSharingAgreement,
    today: dt.date | None = None,
) -> Agreement:
    """Replace a draft's document (drafts are saved at every step)."""
    today = today or timezone.localdate()
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    _require_party_member(by, agreement)
    if agreement.status != "draft":
        raise Refused(
            "Only a draft can be edited. Return it for changes first, or start an amendment.",
            target=_target(agreement),
        )
    if {party.id for party in document.parties} != set(_party_ids(agreement).values()):
        raise Refused(
            "A draft cannot add or remove parties by editing; its parties are fixed when it "
            "is started.",
            target=_target(agreement),
        )
    document = document.model_copy(update={"id": str(agreement.pk), "status": "draft"})
    version = agreement.current
    version.document = document.model_dump(mode="json", by_alias=True)
    version.digest = _digest(document)
    version.save(update_fields=["document", "digest"])
    agreement.title = document.title or agreement.title
    agreement.save(update_fields=["title"])
    record(
        by=by,
        action="agreement.draft_saved",
        target=_target(agreement),
        details={"version": version.number, "digest": version.digest, **_counts(document, today)},
    )
    return agreement


def _move(by: Actor, agreement: Agreement, event: str, **details: object) -> Agreement:
    try:
        step = lifecycle.move(agreement.status, event)  # type: ignore[arg-type]
    except lifecycle.NotAllowed as exc:
        raise Refused(str(exc), target=_target(agreement)) from exc
    agreement.status = step.target
    fields = ["status"]
    if step.target == "active" and agreement.activated_at is None:
        agreement.activated_at = timezone.now()
        fields.append("activated_at")
    if step.target in lifecycle.ENDED:
        agreement.ended_at = timezone.now()
        fields.append("ended_at")
    agreement.save(update_fields=fields)
    version = agreement.current
    document = DataSharingAgreement.model_validate(version.document)
    document = document.model_copy(update={"status": step.target})
    version.document = document.model_dump(mode="json", by_alias=True)
    version.digest = _digest(document)
    version.save(update_fields=["document", "digest"])
    record(
        by=by,
        action=f"agreement.{step.target}",
        target=_target(agreement),
        details={"from": step.source, "to": step.target, "meaning": step.meaning, **details},
    )
    return agreement


def _refuse_blockers(agreement: Agreement, today: dt.date, doing: str) -> None:
    found = rules.blockers(rules.check(document_of(agreement), today=today))
    if found:
        first = found[0].message
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise Refused(
            f"The agreement cannot be {doing} while the checks find a blocker: {first}{more}",
            target=_target(agreement),
        )


@audited("agreement.in_review")
def submit(*, by: Actor, agreement: Agreement) -> Agreement:
    """Send a draft to every party for review and signature."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    _require_party_member(by, agreement)
    return _move(by, agreement, "submit")


@audited("agreement.signed")
def sign(*, by: Actor, agreement: Agreement, role: str, today: dt.date | None = None) -> Agreement:
    """Sign for ``by``'s organisation in ``role``, which ``by`` must hold there. When every
    party's required signatures are in and no blocker remains, the agreement is approved."""
    today = today or timezone.localdate()
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    party_id = _require_party_member(by, agreement)
    if agreement.status != "in_review":
        raise Refused("Only an agreement in review can be signed.", target=_target(agreement))
    if role not in SIGNATORY_ROLES or role not in by.roles:
        raise NotPermitted(
            f"You can only sign in a role you hold for {by.organisation_name}.",
            target=_target(agreement),
        )
    version = agreement.current
    if version.signatures.filter(organisation_id=by.organisation_id, role=role).exists():
        raise Refused(
            f"{by.organisation_name} has already signed as {role.replace('_', ' ')}.",
            target=_target(agreement),
        )
    SignatureRow.objects.create(
        version=version, organisation_id=by.organisation_id, role=role, signed_by=by.label
    )
    document = DataSharingAgreement.model_validate(version.document)
    signature = Signature(
        party_id=party_id,
        role=role,  # type: ignore[arg-type]
        name=by.label,
        signed_date=today,
        method="platform_attestation",
    )
    document = document.model_copy(update={"signatories": [*document.signatories, signature]})
    version.document = document.model_dump(mode="json", by_alias=True)
    version.digest = _digest(document)
    version.save(update_fields=["document", "digest"])
    record(
        by=by,
        action="agreement.signed",
        target=_target(agreement),
        details={"role": role, "party": party_id, "version": version.number},
    )
    if not rules.blockers(rules.check(document, today=today)):
        _move(by, agreement, "approve")
    return agreement


@audited("agreement.active")
def activate(*, by: Actor, agreement: Agreement, today: dt.date | None = None) -> Agreement:
    """Bring an approved agreement into force, on or after its start date."""
    today = today or timezone.localdate()
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    _require_party_member(by, agreement)
    _refuse_blockers(agreement, today, "made active")
    document = document_of(agreement)
    start = document.term.start_date if document.term else None
    if start is not None and start > today:
        raise Refused(
            f"The agreement starts on {start:%-d %B %Y}; it can be made active from then.",
            target=_target(agreement),
        )
    return _move(by, agreement, "activate")


@audited("agreement.suspended")
def suspend(*, by: Actor, agreement: Agreement, reason: str) -> Agreement:
    """Stop sharing under an active agreement at once, until resumed."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    _require_party_member(by, agreement)
    if not reason.strip():
        raise Refused("Say why the agreement is suspended.", target=_target(agreement))
    return _move(by, agreement, "suspend", reason=reason.strip())


@audited("agreement.active")
def resume(*, by: Actor, agreement: Agreement, today: dt.date | None = None) -> Agreement:
    today = today or timezone.localdate()
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    _require_party_member(by, agreement)
    _refuse_blockers(agreement, today, "resumed")
    return _move(by, agreement, "resume")


@audited("agreement.terminated")
def terminate(*, by: Actor, agreement: Agreement, reason: str) -> Agreement:
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    _require_party_member(by, agreement)
    if not reason.strip():
        raise Refused("Say why the agreement is ended.", target=_target(agreement))
    return _move(by, agreement, "terminate", reason=reason.strip())
