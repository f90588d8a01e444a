"""Data requests through the API: the same queries and actions as the request pages.

A request is seen only by the organisation that made it and the organisations asked (anyone
else gets 404, as on the pages). Who may do what is checked by the actions, for both faces:
asking and withdrawing need a drafting role, answering (approving or declining) a deciding role
at an organisation asked, and commenting a membership of the requester or a holder. Looking for
what may already answer a question is a read, open to any member.

Organisations are named by their id on Accord, frameworks by slug and data standards by slug;
one that does not exist is a 422 naming the field, e.g. ``holders[1]``.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Status

from accord.agreements.models import Framework
from accord.data_requests import actions, queries, transitions
from accord.data_requests.models import DataRequest, RequestHolder
from accord.organisations.models import Organisation
from accord.standards.queries import get_standard

from .agreements import DENIALS, MOVES
from .auth import Caller, caller
from .errors import Unprocessable
from .schemas import (
    DataRequestDetail,
    DataRequestIn,
    DataRequestSummary,
    Invalid,
    Problem,
    RequestApproved,
    RequestApproveIn,
    RequestCommentIn,
    RequestCommentOut,
    RequestDeclineIn,
    RequestHolderOut,
    RequestSuggestionsIn,
    RequestWithdrawIn,
    SuggestionOut,
)

router = Router(tags=["data requests"])

READS: dict[int, Any] = {401: Problem, 422: Invalid}


# Looking things up by what the caller sent: a miss is a 422 naming the field --------------------


def unknown_standards(slugs: list[str]) -> list[dict[str, str]]:
    errors = []
    for n, slug in enumerate(slugs):
        try:
            get_standard(slug)
        except LookupError:
            errors.append(
                {
                    "path": f"standards[{n}]",
                    "message": f"There is no published data standard called '{slug}'.",
                }
            )
    return errors


def framework_called(slug: str, errors: list[dict[str, str]]) -> Framework | None:
    """The framework ``slug``; None, noting the miss in ``errors``, when there is none."""
    found = Framework.objects.filter(slug=slug).first()
    if found is None:
        errors.append({"path": "framework", "message": f"There is no framework called '{slug}'."})
    return found


def refuse_if(errors: list[dict[str, str]]) -> None:
    """422 listing ``errors``, if there are any."""
    if errors:
        raise Unprocessable("", errors)


# What is sent back ------------------------------------------------------------------------------


def _holder(holder: RequestHolder) -> RequestHolderOut:
    return RequestHolderOut(
        organisation_id=holder.organisation_id,
        organisation=holder.organisation.name,
        answer=holder.answer,
        answer_label=transitions.ANSWER_LABELS.get(holder.answer, holder.answer),
        reasons=holder.reasons,
        answered_by=holder.answered_by,
        answered_at=holder.answered_at,
        agreement_id=str(holder.agreement_id) if holder.agreement_id else None,
    )


def _summary_fields(found: DataRequest, organisation_id: int) -> dict[str, Any]:
    return {
        "id": str(found.pk),
        "title": found.title,
        "status": found.status,
        "status_label": transitions.STATUS_LABELS.get(found.status, found.status),
        "requester_id": found.requester_id,
        "requester": found.requester.name,
        "made_by_you": found.requester_id == organisation_id,
        "framework": found.framework.slug if found.framework else None,
        "holders": [_holder(h) for h in found.holders.all()],
        "created_at": found.created_at,
        "closed_at": found.closed_at,
    }


def _detail(found: DataRequest, organisation_id: int) -> DataRequestDetail:
    comments = [
        RequestCommentOut(
            id=c.pk,
            organisation_id=c.organisation_id,
            organisation=c.organisation.name,
            author=c.author,
            body=c.body,
            created_at=c.created_at,
        )
        for c in found.comments.select_related("organisation")
    ]
    return DataRequestDetail(
        **_summary_fields(found, organisation_id),
        question=found.question,
        reason=found.reason,
        standards=list(found.standards),
        data_description=found.data_description,
        frequency=found.frequency,
        needed_by=found.needed_by,
        requested_by=found.requested_by,
        comments=comments,
    )


def _visible(request: HttpRequest, request_id: UUID) -> tuple[Caller, DataRequest]:
    who = caller(request)
    return who, queries.request_for(who.organisation_id, request_id)


def _fresh(who: Caller, request_id: UUID | str) -> DataRequestDetail:
    return _detail(queries.request_for(who.organisation_id, request_id), who.organisation_id)


# Endpoints --------------------------------------------------------------------------------------


@router.get("/requests", response={200: list[DataRequestSummary], **DENIALS})
def list_requests(request: HttpRequest) -> list[DataRequestSummary]:
    """Requests your organisation made or was asked, newest first."""
    who = caller(request)
    return [
        DataRequestSummary(**_summary_fields(found, who.organisation_id))
        for found in queries.requests_for(who.organisation_id)
    ]


@router.post("/requests/suggestions", response={200: list[SuggestionOut], **READS})
def suggest_for_request(request: HttpRequest, body: RequestSuggestionsIn) -> list[SuggestionOut]:
    """Before asking: published standards, agreements in force and requests your organisation
    can see that may already answer the question."""
    who = caller(request)
    refuse_if(unknown_standards(body.standards))
    found = queries.may_already_answer(
        f"{body.title} {body.question}", list(body.standards), who.organisation_id
    )
    return [SuggestionOut(kind=s.kind, title=s.title, detail=s.detail, link=s.link) for s in found]


@router.post("/requests", response={201: DataRequestDetail, **MOVES})
def post_request(request: HttpRequest, body: DataRequestIn) -> Status[DataRequestDetail]:
    """Ask the organisations that hold the data for it; their DPOs, information asset owners
    and SIROs are told. Needs a drafting role."""
    who = caller(request)
    errors: list[dict[str, str]] = []
    active = Organisation.objects.filter(is_active=True).in_bulk(set(body.holders))
    holders = []
    for n, organisation_id in enumerate(body.holders):
        if organisation_id in active:
            holders.append(active[organisation_id])
        else:
            errors.append(
                {
                    "path": f"holders[{n}]",
                    "message": f"There is no organisation on Accord with id {organisation_id}.",
                }
            )
    errors += unknown_standards(body.standards)
    if not body.standards and not body.data_description.strip():
        errors.append(
            {
                "path": "standards",
                "message": "Choose a data standard, or describe the data in data_description.",
            }
        )
    framework = framework_called(body.framework, errors) if body.framework else None
    refuse_if(errors)
    created = actions.post(
        by=who.actor,
        title=body.title,
        question=body.question,
        reason=body.reason,
        holders=holders,
        frequency=body.frequency,
        standards=list(body.standards),
        data_description=body.data_description,
        needed_by=body.needed_by,
        framework=framework,
    )
    return Status(201, _fresh(who, created.pk))


@router.get("/requests/{request_id}", response={200: DataRequestDetail, **DENIALS})
def get_request(request: HttpRequest, request_id: UUID) -> DataRequestDetail:
    """The request, each holder's answer (with the agreement drafted when it approved) and
    the discussion."""
    who, found = _visible(request, request_id)
    return _detail(found, who.organisation_id)


@router.post("/requests/{request_id}/comments", response={201: RequestCommentOut, **MOVES})
def comment_on_request(
    request: HttpRequest, request_id: UUID, body: RequestCommentIn
) -> Status[RequestCommentOut]:
    """Add to the discussion; the other organisations are told."""
    who, found = _visible(request, request_id)
    note = actions.comment(by=who.actor, request=found, body=body.body)
    return Status(
        201,
        RequestCommentOut(
            id=note.pk,
            organisation_id=note.organisation_id,
            organisation=note.organisation.name,
            author=note.author,
            body=note.body,
            created_at=note.created_at,
        ),
    )


@router.post("/requests/{request_id}/approve", response={200: RequestApproved, **MOVES})
def approve_request(
    request: HttpRequest, request_id: UUID, body: RequestApproveIn
) -> RequestApproved:
    """Say yes for your organisation: drafts an agreement from the framework's template, with
    you providing the data to the requester. Needs a deciding role at an organisation asked."""
    who, found = _visible(request, request_id)
    errors: list[dict[str, str]] = []
    framework = framework_called(body.framework, errors)
    refuse_if(errors)
    assert framework is not None
    agreement = actions.approve(
        by=who.actor, request=found, framework=framework, agreement_type=body.agreement_type
    )
    found.refresh_from_db(fields=["status"])
    return RequestApproved(
        request_id=str(found.pk),
        request_status=found.status,
        agreement_id=str(agreement.pk),
        agreement_status=agreement.status,
    )


@router.post("/requests/{request_id}/decline", response={200: DataRequestDetail, **MOVES})
def decline_request(
    request: HttpRequest, request_id: UUID, body: RequestDeclineIn
) -> DataRequestDetail:
    """Say no for your organisation, with reasons the requester can act on. Needs a deciding
    role at an organisation asked."""
    who, found = _visible(request, request_id)
    actions.decline(by=who.actor, request=found, reasons=body.reasons)
    return _fresh(who, request_id)


@router.post("/requests/{request_id}/withdraw", response={200: DataRequestDetail, **MOVES})
def withdraw_request(
    request: HttpRequest, request_id: UUID, body: RequestWithdrawIn | None = None
) -> DataRequestDetail:
    """The requester no longer needs the data; the body (a reason for the holders) may be left
    out. Needs a drafting role at the requester."""
    who, found = _visible(request, request_id)
    actions.withdraw(by=who.actor, request=found, reason=body.reason if body else "")
    return _fresh(who, request_id)
