"""Writes to agreements, each with its audit event in the same transaction.

Every move goes through :func:`accord.agreements.lifecycle.move`, so no status change happens
that the lifecycle table does not have; approving and activating also refuse while the legal
rule checks (:mod:`accord.agreements.rules`) report any blocker.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence

from django.utils import timezone

from accord.access.grants import write_grants
from accord.audit.actions import audited, record
from accord.audit.actor import Actor, ActorKind
from accord.audit.exceptions import NotPermitted, Refused
from accord.organisations.enums import Role
from accord.organisations.models import Organisation
from accord.standards.schema import Standard

from . import frameworks, lifecycle, notices, rules
from .document import DataSharingAgreement, Signature, to_canonical_json
from .enums import DECIDING_ROLES, DRAFTING_ROLES
from .models import Agreement, AgreementParty, AgreementVersion, Framework, FrameworkMember
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


def _require_party_member(
    by: Actor, agreement: Agreement, roles: frozenset[Role] | None = None
) -> str:
    """The party id ``by`` acts for; only parties' members (and set-up commands) may act,
    and, when ``roles`` is given, only those holding one of them."""
    if by.kind is ActorKind.SYSTEM:
        return ""
    party_id = _party_ids(agreement).get(by.organisation_id)
    if party_id is None:
        raise NotPermitted(
            "Only members of the organisations that are parties to this agreement can do this.",
            target=_target(agreement),
        )
    if roles is not None and not set(by.roles) & {str(r) for r in roles}:
        names = ", ".join(sorted(Role(r).label for r in roles))
        raise NotPermitted(
            f"Only someone with one of these roles can do this: {names}.",
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
    framework: Framework | None = None,
    amends: Agreement | None = None,
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
        framework=framework,
        amends=amends,
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
            "framework": framework.slug if framework else None,
            "amends": str(amends.pk) if amends else None,
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
    _require_party_member(by, agreement, DRAFTING_ROLES)
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
    moved: dict[str, object] = {
        "from": step.source,
        "to": step.target,
        "meaning": step.meaning,
        **details,
    }
    record(by=by, action=f"agreement.{step.target}", target=_target(agreement), details=moved)
    notices.on_agreement_event(
        by=by, agreement=agreement, action=f"agreement.{step.target}", details=moved
    )
    return agreement


MAX_REASON = 2000


def _reason(reason: str, agreement: Agreement, missing: str) -> str:
    """A reason the other parties will read: required, and short enough to read."""
    reason = reason.strip()
    if not reason:
        raise Refused(missing, target=_target(agreement))
    if len(reason) > MAX_REASON:
        raise Refused(
            f"Keep the reason under {MAX_REASON} characters; the parties read it in a notice.",
            target=_target(agreement),
        )
    return reason


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
def submit(*, by: Actor, agreement: Agreement, today: dt.date | None = None) -> Agreement:
    """Send a draft to every party for review and signature, once the drafters have cleared
    every blocker that signing does not clear."""
    today = today or timezone.localdate()
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    _require_party_member(by, agreement, DRAFTING_ROLES)
    found = rules.drafting_blockers(rules.check(document_of(agreement), today=today))
    if agreement.status == "draft" and found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise Refused(
            "The draft cannot be sent for signature while the checks find a blocker: "
            f"{found[0].message}{more}",
            target=_target(agreement),
        )
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
    signed = {"role": role, "party": party_id, "version": version.number}
    record(by=by, action="agreement.signed", target=_target(agreement), details=signed)
    notices.on_agreement_event(
        by=by, agreement=agreement, action="agreement.signed", details=signed
    )
    if not rules.blockers(rules.check(document, today=today)):
        _move(by, agreement, "approve")
    return agreement


@audited("agreement.active")
def activate(*, by: Actor, agreement: Agreement, today: dt.date | None = None) -> Agreement:
    """Bring an approved agreement into force, on or after its start date."""
    today = today or timezone.localdate()
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    _require_party_member(by, agreement, DECIDING_ROLES)
    _refuse_blockers(agreement, today, "made active")
    document = document_of(agreement)
    start = document.term.start_date if document.term else None
    if start is not None and start > today:
        raise Refused(
            f"The agreement starts on {start:%-d %B %Y}; it can be made active from then.",
            target=_target(agreement),
        )
    _move(by, agreement, "activate")
    # What it grants, written in the same transaction: never active without its grants.
    write_grants(agreement, document)
    amended = agreement.amends
    if amended is not None and amended.status in ("active", "suspended"):
        amended = Agreement.objects.select_for_update().get(pk=amended.pk)
        _move(by, amended, "supersede", by_amendment=str(agreement.pk))
    return agreement


@audited("agreement.suspended")
def suspend(*, by: Actor, agreement: Agreement, reason: str) -> Agreement:
    """Stop sharing under an active agreement at once, until resumed."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    _require_party_member(by, agreement, DECIDING_ROLES)
    reason = _reason(reason, agreement, "Say why the agreement is suspended.")
    return _move(by, agreement, "suspend", reason=reason)


@audited("agreement.active")
def resume(*, by: Actor, agreement: Agreement, today: dt.date | None = None) -> Agreement:
    today = today or timezone.localdate()
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    _require_party_member(by, agreement, DECIDING_ROLES)
    _refuse_blockers(agreement, today, "resumed")
    return _move(by, agreement, "resume")


@audited("agreement.terminated")
def terminate(*, by: Actor, agreement: Agreement, reason: str) -> Agreement:
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    _require_party_member(by, agreement, DECIDING_ROLES)
    reason = _reason(reason, agreement, "Say why the agreement is ended.")
    return _move(by, agreement, "terminate", reason=reason)


# Returning for changes ------------------------------------------------------------------------


@audited("agreement.draft")
def return_for_changes(*, by: Actor, agreement: Agreement, reason: str) -> Agreement:
    """Send an agreement in review back to draft; any signatures so far are void, because
    they were given to a text that is about to change."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    _require_party_member(by, agreement, DRAFTING_ROLES)
    reason = _reason(reason, agreement, "Say what needs to change.")
    voided = agreement.current.signatures.count()
    agreement.current.signatures.all().delete()
    version = agreement.current
    document = document_of(agreement).model_copy(update={"signatories": []})
    version.document = document.model_dump(mode="json", by_alias=True)
    version.digest = _digest(document)
    version.save(update_fields=["document", "digest"])
    return _move(by, agreement, "return", reason=reason, signatures_voided=voided)


# Frameworks -----------------------------------------------------------------------------------


def _require_staff(by: Actor, doing: str) -> None:
    if by.kind is not ActorKind.SYSTEM and not by.is_platform_staff:
        raise NotPermitted(f"Only platform staff can {doing}.")


@audited("framework.created")
def create_framework(
    *,
    by: Actor,
    slug: str,
    name: str,
    description: str,
    clauses: frameworks.Clauses,
    template_types: list[str],
) -> Framework:
    """Set up a framework with its common clauses and the agreement templates it offers."""
    _require_staff(by, "set up a framework")
    unknown = sorted(set(template_types) - set(frameworks.TEMPLATES))
    if unknown:
        raise Refused(f"There is no agreement template called {', '.join(unknown)}.")
    if Framework.objects.filter(slug=slug).exists():
        raise Refused(f"There is already a framework called {slug}.")
    framework = Framework.objects.create(
        slug=slug,
        name=name,
        description=description,
        clauses=clauses.model_dump(mode="json"),
        template_types=list(template_types),
    )
    record(
        by=by,
        action="framework.created",
        target=f"framework:{framework.slug}",
        details={"name": name, "templates": list(template_types)},
    )
    return framework


@audited("framework.member_added")
def add_framework_member(
    *, by: Actor, framework: Framework, organisation: Organisation
) -> FrameworkMember:
    """An organisation signs up to the framework (its chief executive has signed the accord)."""
    _require_staff(by, "add members to a framework")
    member, created = FrameworkMember.objects.get_or_create(
        framework=framework, organisation=organisation
    )
    if not created:
        raise Refused(f"{organisation.name} is already a member of {framework.name}.")
    record(
        by=by,
        action="framework.member_added",
        target=f"framework:{framework.slug}",
        subject_organisation_id=str(organisation.pk),
        details={"organisation": organisation.name},
    )
    return member


def clauses_of(framework: Framework) -> frameworks.Clauses:
    return frameworks.Clauses.model_validate(framework.clauses)


def _party_organisation(org: Organisation, party_id: str) -> frameworks.PartyOrganisation:
    return frameworks.PartyOrganisation(
        party_id=party_id,
        name=org.name,
        sector=org.sector,
        gss_code=org.gss_code,
        ods_code=org.ods_code,
        ico_registration=org.ico_registration,
    )


def party_id_for(org: Organisation) -> str:
    """A short, readable party id for ``org`` in a document: its code, or its number."""
    return (org.gss_code or org.ods_code or f"org-{org.pk}").lower()


@audited("agreement.drafted")
def draft_from_framework(
    *,
    by: Actor,
    framework: Framework,
    agreement_type: str,
    provider: Organisation,
    recipient: Organisation,
    title: str = "",
    question: str = "",
    reason: str = "",
    standards: list[Standard] | None = None,
    frequency: str | None = None,
    today: dt.date | None = None,
    also_to: Sequence[Organisation] = (),
) -> Agreement:
    """Start a draft from one of ``framework``'s templates, between two of its members (or a
    provider and several recipients, ``also_to``), pre-filled with the framework's clauses and
    what the request (if any) said."""
    today = today or timezone.localdate()
    if agreement_type not in framework.template_types:
        raise Refused(f"{framework.name} has no template for that kind of agreement.")
    members = set(framework.members.values_list("organisation_id", flat=True))
    outsiders = [org.name for org in (provider, recipient, *also_to) if org.pk not in members]
    if outsiders:
        raise Refused(
            f"{' and '.join(outsiders)} "
            f"{'is not a member' if len(outsiders) == 1 else 'are not members'} "
            f"of {framework.name}, so its templates cannot be used. Ask platform staff to add "
            "them, or draft the agreement without the framework."
        )
    if provider.pk == recipient.pk:
        raise Refused("An agreement needs two different organisations.")
    extra = [org for org in dict.fromkeys(also_to) if org.pk not in (provider.pk, recipient.pk)]
    ids = {"provider": party_id_for(provider), "recipient": party_id_for(recipient)}
    document = frameworks.draft_document(
        agreement_type=agreement_type,
        clauses=clauses_of(framework),
        provider=_party_organisation(provider, ids["provider"]),
        recipient=_party_organisation(recipient, ids["recipient"]),
        prefill=frameworks.Prefill(
            title=title,
            question=question,
            reason=reason,
            standards=tuple(standards or ()),
            frequency=frequency,  # type: ignore[arg-type]
        ),
        start=today,
        also_to=[_party_organisation(org, party_id_for(org)) for org in extra],
    )
    return start_draft(
        by=by,
        document=document,
        parties={
            ids["provider"]: provider,
            ids["recipient"]: recipient,
            **{party_id_for(org): org for org in extra},
        },
        today=today,
        framework=framework,
    )


# Amendments -----------------------------------------------------------------------------------


def _next_version(version: str) -> str:
    major, minor, _patch = (int(part) for part in version.split("-")[0].split("."))
    return f"{major}.{minor + 1}.0"


@audited("agreement.drafted")
def start_amendment(*, by: Actor, agreement: Agreement, today: dt.date | None = None) -> Agreement:
    """Start an amendment of an agreement in force: a new draft, with the same parties, that
    supersedes it once it is signed and in force. The agreement stays in force meanwhile."""
    today = today or timezone.localdate()
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    _require_party_member(by, agreement, DRAFTING_ROLES)
    if agreement.status not in ("active", "suspended"):
        raise Refused(
            "Only an agreement in force (or suspended) can be amended; edit a draft directly.",
            target=_target(agreement),
        )
    pending = agreement.amendments.exclude(status__in=lifecycle.ENDED).first()
    if pending is not None:
        raise Refused(
            f"There is already an amendment under way ({pending.title}); finish or end it first.",
            target=_target(agreement),
        )
    old = document_of(agreement)
    document = old.model_copy(
        update={"version": _next_version(old.version), "signatories": [], "status": "draft"}
    )
    parties = {
        row.party_id: row.organisation for row in agreement.parties.select_related("organisation")
    }
    return start_draft(
        by=by,
        document=document,
        parties=parties,
        today=today,
        framework=agreement.framework,
        amends=agreement,
    )
