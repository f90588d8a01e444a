"""Agreements through the API: the same queries and actions as the pages.

Reading needs a membership of an organisation that is a party (any role); a non-party gets 404,
as on the pages. Starting a draft needs a drafting role (``accord.agreements.enums``), checked
here as the new-agreement page checks it; every other write is checked by its action, as for
the pages: saving and submitting need a drafting role, activating, suspending, resuming and
ending a deciding role, and signing the role signed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status

from accord.agreements import actions, lifecycle, queries, rules
from accord.agreements.document import DataSharingAgreement, json_schema
from accord.agreements.enums import DRAFTING_ROLES
from accord.agreements.jsonld import to_jsonld
from accord.agreements.models import Agreement
from accord.audit.actions import record
from accord.audit.enums import Outcome
from accord.audit.exceptions import NotPermitted
from accord.organisations.enums import Role

from .auth import Caller, caller
from .errors import Unprocessable
from .schemas import (
    AgreementDetail,
    AgreementStatus,
    AgreementSummary,
    FindingOut,
    Invalid,
    PartyOut,
    Problem,
    Reason,
    SignIn,
)

router = Router(tags=["agreements"])
public = Router(tags=["public"])

# Every endpoint that needs a token may answer with these.
DENIALS: dict[int, Any] = {401: Problem, 403: Problem, 404: Problem}
MOVES: dict[int, Any] = {**DENIALS, 409: Problem, 422: Invalid}


def _require(who: Caller, roles: Iterable[Role], doing: str, target: str = "") -> None:
    """Refuse (403, audited) unless the caller holds one of ``roles`` in their organisation."""
    allowed = {str(r) for r in roles}
    if set(who.membership.roles) & allowed:
        return
    names = ", ".join(Role(r).label for r in Role.values if r in allowed)
    reason = (
        f"Only someone with one of these roles at {who.membership.organisation.name} can "
        f"{doing}: {names}."
    )
    record(
        by=who.actor,
        action="api.request_refused",
        target=target,
        outcome=Outcome.REFUSED,
        reason=reason,
        details={"via": "api", "token": who.token.prefix},
    )
    raise NotPermitted(reason, target=target)


def _parties(agreement: Agreement) -> list[PartyOut]:
    return [
        PartyOut(
            party_id=p.party_id, organisation_id=p.organisation_id, organisation=p.organisation.name
        )
        for p in sorted(agreement.parties.all(), key=lambda p: p.party_id)
    ]


def _findings(document: DataSharingAgreement) -> list[FindingOut]:
    return [
        FindingOut(code=f.code, severity=f.severity, message=f.message, path=f.path)
        for f in rules.check(document, today=timezone.localdate())
    ]


def _review_state(document: DataSharingAgreement) -> str:
    review = document.term.review_date if document.term else None
    return lifecycle.review_state(review, timezone.localdate())


def _summary(agreement: Agreement) -> AgreementSummary:
    document = actions.document_of(agreement)
    term = document.term
    return AgreementSummary(
        id=str(agreement.pk),
        title=agreement.title,
        agreement_type=agreement.agreement_type,
        status=agreement.status,
        review_state=_review_state(document),
        start_date=term.start_date if term else None,
        end_date=term.end_date if term else None,
        review_date=term.review_date if term else None,
        parties=_parties(agreement),
        created_at=agreement.created_at,
        activated_at=agreement.activated_at,
    )


def _detail(agreement: Agreement) -> AgreementDetail:
    document = actions.document_of(agreement)
    return AgreementDetail(
        id=str(agreement.pk),
        status=agreement.status,
        review_state=_review_state(document),
        parties=_parties(agreement),
        findings=_findings(document),
        document=document.model_dump(mode="json", by_alias=True),
    )


def _status(agreement: Agreement) -> AgreementStatus:
    agreement.refresh_from_db()
    return AgreementStatus(
        id=str(agreement.pk),
        status=agreement.status,
        findings=_findings(actions.document_of(agreement)),
    )


def _visible(request: HttpRequest, agreement_id: UUID) -> tuple[Caller, Agreement]:
    who = caller(request)
    return who, queries.agreement_for(who.organisation_id, str(agreement_id))


@public.get("/agreements/schema", auth=None, response=dict[str, Any], url_name="agreement_schema")
def agreement_schema(request: HttpRequest) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the canonical agreement document. No token needed."""
    return json_schema()


@public.get("/public/register", auth=None, response=dict[str, Any], url_name="public_register")
def public_register(request: HttpRequest, q: str = "") -> dict[str, Any]:
    """Agreements in force, as on the public register page. No token needed."""
    entries = [entry.as_json() for entry in queries.public_register(q[:200])]
    return {"agreements": entries, "count": len(entries)}


@router.get("/agreements", response={200: list[AgreementSummary], **DENIALS})
def list_agreements(request: HttpRequest) -> list[AgreementSummary]:
    """Agreements your organisation is a party to, newest first."""
    who = caller(request)
    return [_summary(a) for a in queries.agreements_of(who.organisation_id)]


@router.post("/agreements", response={201: AgreementDetail, **MOVES})
def import_agreement(
    request: HttpRequest, document: DataSharingAgreement
) -> Status[AgreementDetail]:
    """Start a draft from a canonical agreement document. Each party is matched to an
    organisation on Accord by its identifiers (GSS, ODS, ICO registration) or exact name;
    your organisation must be one of them."""
    who = caller(request)
    _require(who, DRAFTING_ROLES, "start a draft agreement")
    matched, unmatched = queries.match_parties(document)
    if unmatched:
        index = {party.id: n for n, party in enumerate(document.parties)}
        errors = [
            {
                "path": f"parties[{index[party_id]}]",
                "message": f"No organisation on Accord matches party '{party_id}' by its GSS "
                "code, ODS code, ICO registration number or exact name.",
            }
            for party_id in unmatched
        ]
        raise Unprocessable(
            "Every party must match an organisation on Accord. Unmatched: "
            + ", ".join(unmatched)
            + ".",
            errors,
        )
    agreement = actions.start_draft(by=who.actor, document=document, parties=matched)
    return Status(201, _detail(agreement))


@router.get("/agreements/{agreement_id}", response={200: AgreementDetail, **DENIALS})
def get_agreement(request: HttpRequest, agreement_id: UUID) -> AgreementDetail:
    """The agreement's canonical document, status and the checks' findings as of today."""
    _, agreement = _visible(request, agreement_id)
    return _detail(agreement)


@router.get("/agreements/{agreement_id}/jsonld", response={200: dict[str, Any], **DENIALS})
def get_agreement_jsonld(request: HttpRequest, agreement_id: UUID) -> dict[str, Any]:
    """The agreement as JSON-LD (ODRL 2.2 policy with DPV terms)."""
    _, agreement = _visible(request, agreement_id)
    return to_jsonld(actions.document_of(agreement))


@router.put("/agreements/{agreement_id}", response={200: AgreementDetail, **MOVES})
def save_agreement(
    request: HttpRequest, agreement_id: UUID, document: DataSharingAgreement
) -> AgreementDetail:
    """Replace a draft's document. Its parties cannot change."""
    who, agreement = _visible(request, agreement_id)
    agreement = actions.save_draft(by=who.actor, agreement=agreement, document=document)
    return _detail(agreement)


@router.post("/agreements/{agreement_id}/submit", response={200: AgreementStatus, **MOVES})
def submit_agreement(request: HttpRequest, agreement_id: UUID) -> AgreementStatus:
    """Send a draft to every party for review and signature."""
    who, agreement = _visible(request, agreement_id)
    return _status(actions.submit(by=who.actor, agreement=agreement))


@router.post("/agreements/{agreement_id}/sign", response={200: AgreementStatus, **MOVES})
def sign_agreement(request: HttpRequest, agreement_id: UUID, body: SignIn) -> AgreementStatus:
    """Sign for your organisation in a role you hold there. When every required signature is
    in and no blocker remains, the agreement is approved."""
    who, agreement = _visible(request, agreement_id)
    return _status(actions.sign(by=who.actor, agreement=agreement, role=body.role))


@router.post("/agreements/{agreement_id}/activate", response={200: AgreementStatus, **MOVES})
def activate_agreement(request: HttpRequest, agreement_id: UUID) -> AgreementStatus:
    """Bring an approved agreement into force, on or after its start date."""
    who, agreement = _visible(request, agreement_id)
    return _status(actions.activate(by=who.actor, agreement=agreement))


@router.post("/agreements/{agreement_id}/suspend", response={200: AgreementStatus, **MOVES})
def suspend_agreement(request: HttpRequest, agreement_id: UUID, body: Reason) -> AgreementStatus:
    """Stop sharing under an active agreement at once, until resumed."""
    who, agreement = _visible(request, agreement_id)
    return _status(actions.suspend(by=who.actor, agreement=agreement, reason=body.reason))


@router.post("/agreements/{agreement_id}/resume", response={200: AgreementStatus, **MOVES})
def resume_agreement(request: HttpRequest, agreement_id: UUID) -> AgreementStatus:
    """Allow sharing again under a suspended agreement."""
    who, agreement = _visible(request, agreement_id)
    return _status(actions.resume(by=who.actor, agreement=agreement))


@router.post("/agreements/{agreement_id}/terminate", response={200: AgreementStatus, **MOVES})
def terminate_agreement(request: HttpRequest, agreement_id: UUID, body: Reason) -> AgreementStatus:
    """End an active or suspended agreement early."""
    who, agreement = _visible(request, agreement_id)
    return _status(actions.terminate(by=who.actor, agreement=agreement, reason=body.reason))
