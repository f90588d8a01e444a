"""Writes to data requests, each with its audit event in the same transaction.

A request is posted by a would-be recipient and routed to the organisations that hold the data;
their DPOs and information asset owners are told. Requester and holders discuss it in comments.
Each holder answers for itself: declining with reasons, or approving, which drafts an agreement
from the chosen framework's template, pre-filled from the request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import get_args

from django.utils import timezone

from accord.agreements import actions as agreement_actions
from accord.agreements.document import Frequency
from accord.agreements.enums import DECIDING_ROLES, DRAFTING_ROLES
from accord.agreements.frameworks import TEMPLATES
from accord.agreements.models import Agreement, Framework
from accord.audit.actions import audited, record
from accord.audit.actor import Actor
from accord.audit.exceptions import NotPermitted, Refused
from accord.notifications.actions import notify
from accord.notifications.models import Topic
from accord.organisations.enums import Role
from accord.organisations.models import Organisation
from accord.standards.queries import get_standard
from accord.standards.schema import Standard

from . import transitions
from .models import DataRequest, RequestComment, RequestHolder

# Who hears about a request made to their organisation: the people who answer it.
ANSWERING_ROLES = (Role.DPO, Role.INFORMATION_ASSET_OWNER, Role.SIRO)
# Who hears about answers and comments at the requesting organisation.
REQUESTING_ROLES = tuple(sorted(DRAFTING_ROLES))
FREQUENCIES: tuple[str, ...] = get_args(Frequency)
MAX_TEXT = 5000


def _target(request: DataRequest) -> str:
    return f"data_request:{request.pk}"


def _link(request: DataRequest) -> str:
    return f"/requests/{request.pk}/"


def _organisation_ids(request: DataRequest) -> set[str]:
    ids = {str(request.requester_id)}
    ids.update(str(pk) for pk in request.holders.values_list("organisation_id", flat=True))
    return ids


def _require_roles(by: Actor, roles: frozenset[Role], doing: str) -> None:
    if not set(by.roles) & {str(r) for r in roles}:
        names = ", ".join(sorted(Role(r).label for r in roles))
        raise NotPermitted(f"Only someone with one of these roles can {doing}: {names}.")


def _standards(slugs: Sequence[str]) -> list[Standard]:
    found = []
    for slug in slugs:
        try:
            found.append(get_standard(slug))
        except LookupError:
            raise Refused(f"There is no published data standard called '{slug}'.") from None
    return found


def _tell(
    by: Actor,
    organisations: Sequence[Organisation],
    subject: str,
    body: str,
    request: DataRequest,
    roles: Sequence[str],
) -> None:
    for organisation in organisations:
        notify(
            by=by,
            organisation=organisation,
            topic=Topic.DATA_REQUEST,
            subject=subject,
            body=body,
            link=_link(request),
            roles=roles,
        )


@audited("data_request.posted")
def post(
    *,
    by: Actor,
    title: str,
    question: str,
    reason: str,
    holders: Sequence[Organisation],
    frequency: str,
    standards: Sequence[str] = (),
    data_description: str = "",
    needed_by: dt.date | None = None,
    framework: Framework | None = None,
    today: dt.date | None = None,
) -> DataRequest:
    """Post a request for data to the organisations that hold it."""
    today = today or timezone.localdate()
    _require_roles(by, DRAFTING_ROLES, "ask for data")
    problems = []
    if not title.strip():
        problems.append("Give the request a short title.")
    if not question.strip():
        problems.append("Say what question the data would answer.")
    if not reason.strip():
        problems.append("Say why you need it: the benefit and the function it serves.")
    if not standards and not data_description.strip():
        problems.append("Choose a data standard, or describe the data you need in words.")
    if not holders:
        problems.append("Choose at least one organisation that holds the data.")
    if any(str(h.pk) == by.organisation_id for h in holders):
        problems.append("You cannot ask your own organisation for data here.")
    if frequency not in FREQUENCIES:
        problems.append("Choose how often you need the data.")
    if needed_by is not None and needed_by < today:
        problems.append("The date you need the data by must be today or later.")
    if any(len(text) > MAX_TEXT for text in (question, reason, data_description)):
        problems.append(f"Keep each answer under {MAX_TEXT} characters.")
    if problems:
        raise Refused(" ".join(problems))
    _standards(standards)
    requester = Organisation.objects.get(pk=by.organisation_id)
    request = DataRequest.objects.create(
        title=title.strip()[:200],
        question=question.strip(),
        reason=reason.strip(),
        standards=list(standards),
        data_description=data_description.strip(),
        frequency=frequency,
        needed_by=needed_by,
        requester=requester,
        requested_by=by.label,
        framework=framework,
    )
    RequestHolder.objects.bulk_create(
        RequestHolder(request=request, organisation=holder) for holder in holders
    )
    record(
        by=by,
        action="data_request.posted",
        target=_target(request),
        details={
            "title": request.title,
            "holders": sorted(h.name for h in holders),
            "standards": list(standards),
            "frequency": frequency,
        },
    )
    _tell(
        by,
        list(holders),
        f"Data request from {requester.name}: {request.title}",
        f"{requester.name} asks for data your organisation holds.\n\n"
        f"The question: {request.question}\n\nWhy: {request.reason}\n\n"
        "Read the request, discuss it with them in the comments, and approve or decline it.",
        request,
        ANSWERING_ROLES,
    )
    return request


@audited("data_request.commented")
def comment(*, by: Actor, request: DataRequest, body: str) -> RequestComment:
    """Add to the discussion; the requester and every holder can, and the others are told."""
    if by.organisation_id not in _organisation_ids(request):
        raise NotPermitted(
            "Only the requesting organisation and the organisations asked can comment.",
            target=_target(request),
        )
    _require_roles(by, DRAFTING_ROLES | DECIDING_ROLES, "join the discussion")
    body = body.strip()
    if not body:
        raise Refused("Write a comment before posting it.", target=_target(request))
    if len(body) > MAX_TEXT:
        raise Refused(f"Keep a comment under {MAX_TEXT} characters.", target=_target(request))
    author = Organisation.objects.get(pk=by.organisation_id)
    note = RequestComment.objects.create(
        request=request, organisation=author, author=by.label, body=body
    )
    record(
        by=by,
        action="data_request.commented",
        target=_target(request),
        details={"comment": note.pk, "organisation": author.name},
    )
    others = [
        org
        for org in Organisation.objects.filter(pk__in=_organisation_ids(request))
        if org.pk != author.pk
    ]
    _tell(
        by,
        others,
        f"New comment on the data request: {request.title}",
        f"{author.name} commented:\n\n{body}",
        request,
        (*ANSWERING_ROLES, *REQUESTING_ROLES),
    )
    return note


def _holder_for(by: Actor, request: DataRequest) -> RequestHolder:
    holder = (
        RequestHolder.objects.select_for_update()
        .filter(request=request, organisation_id=by.organisation_id)
        .first()
    )
    if holder is None:
        raise NotPermitted(
            "Only an organisation the request was made to can answer it.",
            target=_target(request),
        )
    _require_roles(by, DECIDING_ROLES, "answer a data request")
    return holder


def _answer(by: Actor, request: DataRequest, holder: RequestHolder, event: str) -> None:
    request = DataRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != "open":
        raise Refused(
            f"This request is {request.status} and can no longer be answered.",
            target=_target(request),
        )
    try:
        step = transitions.move(transitions.ANSWER_MOVES, holder.answer, event)
    except transitions.NotAllowed:
        raise Refused(
            f"{holder.organisation.name} has already answered this request.",
            target=_target(request),
        ) from None
    holder.answer = step.target
    holder.answered_by = by.label
    holder.answered_at = timezone.now()
    holder.save()
    settled = transitions.settled(list(request.holders.values_list("answer", flat=True)))
    if settled is not None:
        request.status = transitions.move(transitions.REQUEST_MOVES, "open", settled).target
        request.closed_at = timezone.now()
        request.save(update_fields=["status", "closed_at"])


@audited("data_request.declined")
def decline(*, by: Actor, request: DataRequest, reasons: str) -> RequestHolder:
    """Say no, with reasons the requester can act on."""
    holder = _holder_for(by, request)
    if not reasons.strip():
        raise Refused("Give your reasons for declining.", target=_target(request))
    holder.reasons = reasons.strip()[:MAX_TEXT]
    _answer(by, request, holder, "decline")
    record(
        by=by,
        action="data_request.declined",
        target=_target(request),
        details={"holder": holder.organisation.name, "reasons": holder.reasons},
    )
    _tell(
        by,
        [request.requester],
        f"Data request declined: {request.title}",
        f"{holder.organisation.name} declined your request.\n\nTheir reasons: {holder.reasons}",
        request,
        REQUESTING_ROLES,
    )
    return holder


@audited("data_request.approved")
def approve(
    *,
    by: Actor,
    request: DataRequest,
    framework: Framework,
    agreement_type: str,
    today: dt.date | None = None,
) -> Agreement:
    """Say yes: draft an agreement from ``framework``'s template, with this holder providing
    the data to the requester, pre-filled from the request."""
    holder = _holder_for(by, request)
    if agreement_type not in TEMPLATES:
        raise Refused("Choose a kind of agreement.", target=_target(request))
    _answer(by, request, holder, "approve")
    agreement = agreement_actions.draft_from_framework(
        by=by,
        framework=framework,
        agreement_type=agreement_type,
        provider=holder.organisation,
        recipient=request.requester,
        title=request.title,
        question=request.question,
        reason=request.reason,
        standards=_standards(request.standards),
        frequency=request.frequency,
        today=today,
    )
    holder.agreement = agreement
    holder.save(update_fields=["agreement"])
    record(
        by=by,
        action="data_request.approved",
        target=_target(request),
        details={
            "holder": holder.organisation.name,
            "agreement": str(agreement.pk),
            "framework": framework.slug,
            "agreement_type": agreement_type,
        },
    )
    _tell(
        by,
        [request.requester],
        f"Data request approved: {request.title}",
        f"{holder.organisation.name} approved your request and drafted an agreement from "
        f"the {framework.name} template. Check the draft, finish any questions it still "
        "has, and send it for signature.",
        request,
        REQUESTING_ROLES,
    )
    return agreement


@audited("data_request.withdrawn")
def withdraw(*, by: Actor, request: DataRequest, reason: str = "") -> DataRequest:
    """The requester no longer needs the data."""
    request = DataRequest.objects.select_for_update().get(pk=request.pk)
    if str(request.requester_id) != by.organisation_id:
        raise NotPermitted(
            "Only the organisation that made the request can withdraw it.",
            target=_target(request),
        )
    _require_roles(by, DRAFTING_ROLES, "withdraw a data request")
    try:
        step = transitions.move(transitions.REQUEST_MOVES, request.status, "withdraw")
    except transitions.NotAllowed:
        raise Refused(
            f"This request is {request.status} and can no longer be withdrawn.",
            target=_target(request),
        ) from None
    request.status = step.target
    request.closed_at = timezone.now()
    request.save(update_fields=["status", "closed_at"])
    record(
        by=by,
        action="data_request.withdrawn",
        target=_target(request),
        details={"reason": reason.strip()[:MAX_TEXT]},
    )
    holders = [h.organisation for h in request.holders.select_related("organisation")]
    _tell(
        by,
        holders,
        f"Data request withdrawn: {request.title}",
        f"{request.requester.name} withdrew the request. {reason.strip()}".strip(),
        request,
        ANSWERING_ROLES,
    )
    return request
