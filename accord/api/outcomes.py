"""Outcomes through the API: the report-backs the caller's organisation owes, or is owed, under
agreements in force, each with its next due date and status; and the outcome reports it has
made or received. The same rules as the pages (``accord.outcomes``). Both need a role that may
see outcome reports (the reporting roles, governance roles and organisation admins); a token
limited to some agreements sees only theirs."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from accord.outcomes import queries
from accord.outcomes.actions import READING_ROLES
from accord.outcomes.models import OutcomeReport

from .agreements import _require
from .auth import Caller, caller
from .schemas import Problem

router = Router(tags=["outcomes"])

READING = "see outcome reports"


class AgreementRef(Schema):
    id: str
    title: str


class OrganisationRef(Schema):
    id: int
    name: str


class CommitmentOut(Schema):
    agreement: AgreementRef
    index: int = Field(description="The commitment's place in the agreement's report_back")
    what: str
    due: str = Field(description="As the agreement says: an ISO-8601 duration or a date")
    side: Literal["owed_by_you", "owed_to_you"]
    owed_by: OrganisationRef
    owed_to: list[OrganisationRef]
    status: Literal["due", "overdue", "reported"]
    next_due: dt.date | None = Field(
        description="The earliest due date not yet reported (none when all are reported)"
    )
    overdue: list[dt.date]


class FigureOut(Schema):
    measure: str
    value: int
    note: str = ""


class ReportOut(Schema):
    id: str
    agreement: AgreementRef
    commitment_index: int
    commitment: str
    side: Literal["made_by_you", "made_to_you"]
    organisation: OrganisationRef = Field(description="Who reported")
    reported_to: list[OrganisationRef]
    due_on: dt.date
    period_start: dt.date
    period_end: dt.date
    figures: list[FigureOut]
    narrative: str
    submitted_by: str
    submitted_at: dt.datetime


def _reader(request: HttpRequest) -> Caller:
    who = caller(request)
    _require(who, READING_ROLES, READING)
    return who


def _in_scope(who: Caller, agreement_id: object) -> bool:
    """Whether the calling token may see the agreement: a token limited to some agreements
    sees only theirs."""
    scope = {str(pk) for pk in who.token.agreements.values_list("pk", flat=True)}
    return not scope or str(agreement_id) in scope


def _org(organisation: Any) -> OrganisationRef:
    return OrganisationRef(id=organisation.pk, name=organisation.name)


def _commitment(c: queries.Commitment, side: str) -> CommitmentOut:
    nxt = c.next
    return CommitmentOut(
        agreement=AgreementRef(id=str(c.agreement.pk), title=c.agreement.title),
        index=c.index,
        what=c.what,
        due=c.due_text,
        side=side,  # type: ignore[arg-type]
        owed_by=_org(c.owed_by),
        owed_to=[_org(o) for o in c.owed_to],
        status=c.status,  # type: ignore[arg-type]
        next_due=nxt.due_on if nxt is not None else None,
        overdue=[o.due_on for o in c.overdue],
    )


def _report(report: OutcomeReport, side: str) -> ReportOut:
    return ReportOut(
        id=str(report.pk),
        agreement=AgreementRef(id=str(report.agreement_id), title=report.agreement.title),
        commitment_index=report.commitment_index,
        commitment=report.commitment,
        side=side,  # type: ignore[arg-type]
        organisation=_org(report.organisation),
        reported_to=[_org(o) for o in report.reported_to.order_by("name")],
        due_on=report.due_on,
        period_start=report.period_start,
        period_end=report.period_end,
        figures=[FigureOut(**f) for f in report.figures],
        narrative=report.narrative,
        submitted_by=report.submitted_by_label,
        submitted_at=report.submitted_at,
    )


@router.get(
    "/outcomes/commitments",
    response={200: list[CommitmentOut], 401: Problem, 403: Problem},
    summary="Outcome reports your organisation owes, or is owed",
)
def list_outcome_commitments(request: HttpRequest) -> list[CommitmentOut]:
    """Each report-back of an agreement in force that your organisation owes (as a recipient of
    its flows) or is owed (as a party it is reported to), with the next due date and the due
    dates that have passed unreported."""
    who = _reader(request)
    owed = [(c, "owed_by_you") for c in queries.commitments_owed_by(who.organisation_id)]
    owed += [(c, "owed_to_you") for c in queries.commitments_owed_to(who.organisation_id)]
    return [_commitment(c, side) for c, side in owed if _in_scope(who, c.agreement.pk)]


@router.get(
    "/outcomes/reports",
    response={200: list[ReportOut], 401: Problem, 403: Problem},
    summary="Outcome reports your organisation made or received",
)
def list_outcome_reports(request: HttpRequest) -> list[ReportOut]:
    """The outcome reports your organisation has made and those made to it, newest first."""
    who = _reader(request)
    made = [(r, "made_by_you") for r in queries.reports_by(who.organisation_id)]
    received = [(r, "made_to_you") for r in queries.reports_to(who.organisation_id)]
    ordered = sorted([*made, *received], key=lambda pair: pair[0].submitted_at, reverse=True)
    return [_report(r, side) for r, side in ordered if _in_scope(who, r.agreement_id)]
