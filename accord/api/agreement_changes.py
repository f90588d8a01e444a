"""Drafting from a framework, returning for changes, amending and reading what changed, through
the API: the same actions as the new-agreement page and the agreement page's buttons.

Starting a draft from a framework needs a drafting role, checked here as the new-agreement page
checks it; the framework must be one your organisation and the other organisation are members
of (the action refuses otherwise, 409). Returning for changes and amending need a drafting role
at a party, checked by the actions. Reading the changes needs a membership of a party.

This router is added before the agreements router, so ``/agreements/from-framework`` is not
read as an agreement id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.http import Http404, HttpRequest
from ninja import Router, Status

from accord.agreements import actions, queries
from accord.agreements.diff import Change, counts, diff
from accord.agreements.document import DataSharingAgreement
from accord.agreements.enums import DRAFTING_ROLES
from accord.agreements.models import Agreement, AgreementVersion
from accord.organisations.models import Organisation
from accord.standards.queries import get_standard

from .agreements import DENIALS, MOVES, _detail, _require, _status, _visible
from .auth import caller
from .data_requests import framework_called, refuse_if, unknown_standards
from .schemas import (
    AgreementChanges,
    AgreementDetail,
    AgreementStatus,
    ChangeOut,
    FromFrameworkIn,
    Reason,
)

router = Router(tags=["agreements"])


@router.post("/agreements/from-framework", response={201: AgreementDetail, **MOVES})
def draft_agreement_from_framework(
    request: HttpRequest, body: FromFrameworkIn
) -> Status[AgreementDetail]:
    """Start a draft from one of a framework's templates, between your organisation and
    another member, pre-filled with the framework's clauses and the standards' fields."""
    who = caller(request)
    _require(who, DRAFTING_ROLES, "start a draft agreement")
    errors: list[dict[str, str]] = []
    framework = framework_called(body.framework, errors)
    other = Organisation.objects.filter(pk=body.other_organisation_id, is_active=True).first()
    if other is None:
        errors.append(
            {
                "path": "other_organisation_id",
                "message": f"There is no organisation on Accord with id "
                f"{body.other_organisation_id}.",
            }
        )
    errors += unknown_standards(body.standards)
    refuse_if(errors)
    assert framework is not None
    assert other is not None
    ours = who.membership.organisation
    provider, recipient = (ours, other) if body.direction == "provide" else (other, ours)
    agreement = actions.draft_from_framework(
        by=who.actor,
        framework=framework,
        agreement_type=body.agreement_type,
        provider=provider,
        recipient=recipient,
        title=body.title,
        standards=[get_standard(slug) for slug in body.standards],
    )
    return Status(201, _detail(agreement))


@router.post("/agreements/{agreement_id}/return", response={200: AgreementStatus, **MOVES})
def return_agreement(
    request: HttpRequest, agreement_id: uuid.UUID, body: Reason
) -> AgreementStatus:
    """Send an agreement in review back to draft, saying what needs to change. Signatures given
    so far no longer count."""
    who, agreement = _visible(request, agreement_id)
    agreement = actions.return_for_changes(by=who.actor, agreement=agreement, reason=body.reason)
    return _status(agreement)


@router.post("/agreements/{agreement_id}/amend", response={201: AgreementDetail, **MOVES})
def amend_agreement(request: HttpRequest, agreement_id: uuid.UUID) -> Status[AgreementDetail]:
    """Start an amendment of an agreement in force: a new draft with the same parties, which
    supersedes it once in force. The agreement stays in force meanwhile."""
    who, agreement = _visible(request, agreement_id)
    # The action locks the agreement's row, which needs a transaction.
    with transaction.atomic():
        amendment = actions.start_amendment(by=who.actor, agreement=agreement)
    return Status(201, _detail(amendment))


@dataclass(frozen=True)
class _Comparison:
    changes: list[Change]
    earlier: str
    version: int | None
    agreement_id: str | None


def _document(version: AgreementVersion) -> DataSharingAgreement:
    return DataSharingAgreement.model_validate(version.document)


def _parent_id(agreement: Agreement, document: DataSharingAgreement) -> uuid.UUID | None:
    """What ``agreement`` amends: its link on Accord, or the one its imported document carries."""
    if agreement.amends_id is not None:
        return agreement.amends_id
    value = document.parent_agreement_id
    if not value:
        return None
    try:
        return uuid.UUID(value.removeprefix("urn:uuid:"))
    except ValueError:
        return None


def _comparison(
    organisation_id: int, agreement: Agreement, current: AgreementVersion
) -> _Comparison | None:
    """The current version against the one before it or, for an amendment drafted as a new
    agreement, against the current version of the one it amends (if this organisation is a
    party to that one too), as the changes page compares them."""
    now = _document(current)
    previous = agreement.versions.filter(number__lt=current.number).order_by("-number").first()
    if previous is not None:
        return _Comparison(
            diff(_document(previous), now), f"version {previous.number}", previous.number, None
        )
    parent_id = _parent_id(agreement, now)
    if parent_id is None or parent_id == agreement.pk:
        return None
    try:
        parent = queries.agreement_for(organisation_id, parent_id)
    except Http404:
        return None
    theirs = parent.current
    return _Comparison(
        diff(_document(theirs), now),
        f"the agreement it amends, “{parent.title}” (version {theirs.number})",
        theirs.number,
        str(parent.pk),
    )


@router.get("/agreements/{agreement_id}/changes", response={200: AgreementChanges, **DENIALS})
def get_agreement_changes(request: HttpRequest, agreement_id: uuid.UUID) -> AgreementChanges:
    """What the current version changes: against the version before it or, for an amendment,
    against the agreement it amends. Status, signatures and provenance are left out."""
    who, agreement = _visible(request, agreement_id)
    current = agreement.current
    comparison = _comparison(who.organisation_id, agreement, current)
    changes = comparison.changes if comparison else []
    return AgreementChanges(
        id=str(agreement.pk),
        version=current.number,
        compared_with=comparison.earlier if comparison else None,
        compared_version=comparison.version if comparison else None,
        compared_agreement_id=comparison.agreement_id if comparison else None,
        counts=counts(changes),
        changes=[
            ChangeOut(path=c.path, kind=c.kind, where=c.where, old=c.old, new=c.new)
            for c in changes
        ],
    )
