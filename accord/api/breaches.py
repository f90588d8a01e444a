"""Breaches through the API: the breaches under your organisation's agreements, one breach with
its clocks, and reporting a suspected breach. The same rules as the pages (``accord.breaches``):
seeing breaches needs a data-protection role at a party; reporting needs a role that handles
the shared data or is accountable for it. A token limited to some agreements sees only theirs."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from uuid import UUID

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from accord.agreements.models import Agreement
from accord.breaches import actions, deadlines, queries
from accord.breaches.enums import BREACH_ROLES, REPORTING_ROLES
from accord.breaches.models import Breach

from .agreements import DENIALS, MOVES, _require
from .auth import Caller, caller
from .errors import Unprocessable
from .schemas import Problem

router = Router(tags=["breaches"])


class ClockOut(Schema):
    name: Literal["partners", "ico"]
    hours: int
    deadline: dt.datetime
    done_at: dt.datetime | None
    state: Literal["met", "late", "due", "overdue"]


class BreachOut(Schema):
    id: str
    reference: str
    agreement_id: str
    agreement: str
    reported_by: str = Field(description="The reporting organisation")
    reported_at: dt.datetime
    status: Literal["reported", "contained", "assessed", "closed"]
    discovered_at: dt.datetime
    occurred_at: dt.datetime | None
    what_happened: str
    data: list[str] = Field(description="Dataset ids, or dataset_id.field, of the agreement")
    partner_hours_from: Literal["agreement", "framework", "default"]
    clocks: list[ClockOut]
    flags: list[str] = Field(description="Deadlines passed without the step, in words")
    risk: Literal["unlikely", "risk", "high"] | None
    ico_told: bool | None
    ico_reference: str
    subjects_told: bool | None
    agreement_suspended: bool


class BreachIn(Schema):
    agreement: UUID
    what_happened: str = Field(min_length=1, max_length=actions.MAX_TEXT)
    discovered_at: dt.datetime
    occurred_at: dt.datetime | None = None
    data: list[str] = Field(
        min_length=1, description="Dataset ids, or dataset_id.field, of the agreement's data"
    )


def _in_scope(who: Caller, agreement_id: object) -> bool:
    scope = {str(pk) for pk in who.token.agreements.values_list("pk", flat=True)}
    return not scope or str(agreement_id) in scope


def _out(breach: Breach, now: dt.datetime) -> BreachOut:
    return BreachOut(
        id=str(breach.pk),
        reference=breach.reference,
        agreement_id=str(breach.agreement_id),
        agreement=breach.agreement.title,
        reported_by=breach.reported_by_organisation.name,
        reported_at=breach.reported_at,
        status=breach.status,  # type: ignore[arg-type]
        discovered_at=breach.discovered_at,
        occurred_at=breach.occurred_at,
        what_happened=breach.what_happened,
        data=list(breach.data),
        partner_hours_from=breach.partner_hours_from,  # type: ignore[arg-type]
        clocks=[
            ClockOut(
                name=c.name,  # type: ignore[arg-type]
                hours=c.hours,
                deadline=c.deadline,
                done_at=c.done_at,
                state=c.state,
            )
            for c in deadlines.clocks(breach, now)
        ],
        flags=deadlines.flags(breach, now),
        risk=breach.risk or None,  # type: ignore[arg-type]
        ico_told=breach.ico_told,
        ico_reference=breach.ico_reference,
        subjects_told=breach.subjects_told,
        agreement_suspended=breach.agreement.status == "suspended",
    )


def _reader(request: HttpRequest) -> Caller:
    who = caller(request)
    _require(who, BREACH_ROLES, "see breaches")
    return who


@router.get(
    "/breaches",
    response={200: list[BreachOut], 401: Problem, 403: Problem},
    summary="Breaches under your organisation's agreements",
)
def list_breaches(request: HttpRequest) -> list[BreachOut]:
    """Suspected breaches under every agreement your organisation is a party to, newest first,
    with their clocks and what is overdue. Needs a data-protection role."""
    who = _reader(request)
    now = timezone.now()
    return [
        _out(b, now)
        for b in queries.breaches_for(who.organisation_id)
        if _in_scope(who, b.agreement_id)
    ]


@router.get("/breaches/{breach_id}", response={200: BreachOut, **DENIALS}, summary="A breach")
def get_breach(request: HttpRequest, breach_id: UUID) -> BreachOut:
    """One breach, with its clocks. Not found unless your organisation is a party to its
    agreement."""
    who = caller(request)
    try:
        breach = queries.breach_for(who.organisation_id, breach_id)
    except Breach.DoesNotExist as exc:
        raise Http404("There is no such breach under your organisation's agreements.") from exc
    if not _in_scope(who, breach.agreement_id):
        raise Http404("There is no such breach under the agreements this token may use.")
    _require(who, BREACH_ROLES, "see breaches", target=f"breach:{breach.pk}")
    return _out(breach, timezone.now())


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None or timezone.is_aware(moment):
        return moment
    return timezone.make_aware(moment)


@router.post(
    "/breaches",
    response={201: BreachOut, **MOVES},
    summary="Report a suspected breach",
)
def report_breach(request: HttpRequest, body: BreachIn) -> Status[BreachOut]:
    """Report a suspected personal data breach under an agreement your organisation is a party
    to. The clocks start from ``discovered_at``; every party's DPO is told. Needs a role that
    handles the shared data or is accountable for it."""
    who = caller(request)
    try:
        agreement = queries.agreement_for(who.organisation_id, body.agreement)
    except Agreement.DoesNotExist as exc:
        raise Http404("Your organisation is not a party to such an agreement.") from exc
    if not _in_scope(who, agreement.pk):
        raise Http404("This token may not be used for that agreement.")
    _require(who, REPORTING_ROLES, "report a breach", target=f"agreement:{agreement.pk}")
    now = timezone.now()
    discovered, occurred = _aware(body.discovered_at), _aware(body.occurred_at)
    assert discovered is not None
    errors: list[dict[str, str]] = []
    if discovered > now:
        errors.append({"path": "discovered_at", "message": "Cannot be in the future."})
    if occurred is not None and occurred > discovered:
        errors.append(
            {"path": "occurred_at", "message": "Must be on or before when it was discovered."}
        )
    known = dict(queries.data_choices(agreement))
    errors += [
        {
            "path": f"data[{n}]",
            "message": f"The agreement has no dataset or field called '{code}'.",
        }
        for n, code in enumerate(body.data)
        if code not in known
    ]
    if not body.what_happened.strip():
        errors.append({"path": "what_happened", "message": "Say what happened."})
    if errors:
        raise Unprocessable("", errors)
    breach = actions.report(
        by=who.actor,
        agreement=agreement,
        what_happened=body.what_happened,
        discovered_at=discovered,
        occurred_at=occurred,
        data=body.data,
        now=now,
    )
    return Status(201, _out(breach, now))
