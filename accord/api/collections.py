"""Collections and returns through the API: the same queries and actions as the pages.

A collection is seen by the organisation that runs it and the organisations that send returns
to it (anyone else gets 404); a submission by the organisation that sent it and the one that
runs the collection. Sending a return needs a submitting role at a contributor (checked by the
action, 403 otherwise); the check then runs in the background: follow it with
``GET /submissions/{id}``. The problems found in a return go only to the organisation that sent
it, and the compiled dataset only to the organisation that runs the collection, each read from
the vault through the decision point (403 with its reason when it says no).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

import polars as pl
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from accord.submissions import actions, periods, queries, transitions
from accord.submissions.models import Collection, Submission

from .agreements import DENIALS, MOVES
from .auth import caller
from .errors import Unprocessable

router = Router(tags=["collections"])

# What a CSV endpoint answers with, for the OpenAPI document.
PERIOD_HELP = (
    "The reporting period: a date in it (2026-03-02), a month (2026-03) or a financial year "
    "(2025-26), as the collection's schedule needs"
)
CSV = {"content": {"text/csv": {"schema": {"type": "string"}}}}


# What is sent back ------------------------------------------------------------------------------


class CollectionSummary(Schema):
    id: str
    slug: str
    name: str
    owner_id: int
    owner: str = Field(description="The organisation that runs it")
    standard: str = Field(description="The data standard returns follow, as slug@version")
    schedule: str = Field(description="daily, weekly, monthly or annual")
    you_run_it: bool = Field(description="True when your organisation runs it; else you send")


class ContributorOut(Schema):
    organisation_id: int
    organisation: str


class SlotOut(Schema):
    organisation_id: int
    organisation: str
    status: str = Field(description="accepted, checking, rejected, late, due or not_due")
    status_label: str
    late: bool = Field(description="Nothing accepted by the deadline, or accepted after it")
    submission_id: str | None = Field(description="The return that decides the status")


class PeriodStatusOut(Schema):
    period: dt.date = Field(description="The period's first day")
    label: str
    deadline: dt.datetime
    expected: int
    received: int = Field(description="Contributors with an accepted return")
    late: int
    completeness: float = Field(description="received / expected, from 0 to 1")
    contributors: list[SlotOut]


class CollectionDetail(CollectionSummary):
    description: str
    starts_on: dt.date
    deadline_days: int = Field(description="Days after each period ends that returns are due")
    deadline_time: dt.time
    invalid_rows: str = Field(description="reject (the whole file) or set_aside (those rows)")
    contributors: list[ContributorOut]
    periods: list[PeriodStatusOut] = Field(
        description="For the organisation that runs it: the recent periods, newest first, "
        "with each contributor's status; empty for contributors"
    )


class SubmissionReceived(Schema):
    id: str
    state: str
    progress_id: str | None = Field(description="Follow the check: GET /submissions/{id}")


class RuleCount(Schema):
    severity: str
    rule: str
    label: str
    field: str | None
    column: str | None
    count: int
    first_row: int | None


class SubmissionOut(Schema):
    id: str
    collection_id: str
    organisation_id: int
    organisation: str
    period: dt.date
    period_label: str
    state: str = Field(description="received, validating, accepted, rejected or superseded")
    state_label: str
    via: str = Field(description="web, api or cli")
    filename: str
    submitted_by: str
    received_at: dt.datetime
    checked_at: dt.datetime | None
    rows: int
    valid_rows: int
    errors: int
    warnings: int
    reason: str = Field(description="Why it was rejected, in plain English")
    rules: list[RuleCount] = Field(description="Problems found, counted by rule")
    caveats: str = Field(description="The sender's own caveats")
    automatic_caveats: list[str]
    superseded_by: str | None
    progress_id: str | None
    progress_state: str | None = Field(description="queued, running, done or failed")
    progress_percent: int | None = Field(description="0-100; null while unknown")


def _summary_fields(collection: Collection, organisation_id: int) -> dict[str, Any]:
    return {
        "id": str(collection.pk),
        "slug": collection.slug,
        "name": collection.name,
        "owner_id": collection.owner_id,
        "owner": collection.owner.name,
        "standard": collection.standard_ref,
        "schedule": collection.schedule,
        "you_run_it": collection.owner_id == organisation_id,
    }


def _period(status: queries.PeriodStatus) -> PeriodStatusOut:
    return PeriodStatusOut(
        period=status.period,
        label=status.label,
        deadline=status.deadline,
        expected=status.expected,
        received=status.received,
        late=status.late,
        completeness=status.completeness,
        contributors=[
            SlotOut(
                organisation_id=slot.organisation.pk,
                organisation=slot.organisation.name,
                status=slot.status,
                status_label=slot.label,
                late=slot.late,
                submission_id=str(slot.submission.pk) if slot.submission else None,
            )
            for slot in status.slots
        ],
    )


def _submission(submission: Submission) -> SubmissionOut:
    collection = submission.collection
    progress = submission.progress
    return SubmissionOut(
        id=str(submission.pk),
        collection_id=str(collection.pk),
        organisation_id=submission.organisation_id,
        organisation=submission.organisation.name,
        period=submission.period,
        period_label=periods.label(collection.schedule, submission.period),  # type: ignore[arg-type]
        state=submission.state,
        state_label=transitions.LABELS[submission.state],
        via=submission.via,
        filename=submission.filename,
        submitted_by=submission.submitted_by,
        received_at=submission.received_at,
        checked_at=submission.checked_at,
        rows=submission.rows,
        valid_rows=submission.valid_rows,
        errors=submission.errors,
        warnings=submission.warnings,
        reason=submission.reason,
        rules=[RuleCount(**rule) for rule in submission.summary.get("rules", [])],
        caveats=submission.caveats,
        automatic_caveats=list(submission.automatic_caveats),
        superseded_by=str(submission.superseded_by_id) if submission.superseded_by_id else None,
        progress_id=str(progress.pk) if progress else None,
        progress_state=progress.state if progress else None,
        progress_percent=progress.percent if progress else None,
    )


def _csv(frame: pl.DataFrame, filename: str) -> HttpResponse:
    response = HttpResponse(frame.write_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# Endpoints --------------------------------------------------------------------------------------


@router.get("/collections", response={200: list[CollectionSummary], **DENIALS})
def list_collections(request: HttpRequest) -> list[CollectionSummary]:
    """Collections your organisation runs or sends returns to, by name."""
    who = caller(request)
    return [
        CollectionSummary(**_summary_fields(c, who.organisation_id))
        for c in queries.collections_for(who.organisation_id)
    ]


@router.get("/collections/{collection_id}", response={200: CollectionDetail, **DENIALS})
def get_collection(request: HttpRequest, collection_id: UUID) -> CollectionDetail:
    """The collection, its contributors and, for the organisation that runs it, who has sent
    what for each recent period and how complete each period is."""
    who = caller(request)
    collection = queries.collection_for(who.organisation_id, collection_id)
    now = timezone.now()
    statuses = (
        [
            _period(queries.period_status(collection, p, now))
            for p in queries.recent_periods(collection, timezone.localdate())
        ]
        if collection.owner_id == who.organisation_id
        else []
    )
    contributors = collection.contributors.filter(is_active=True).select_related("organisation")
    return CollectionDetail(
        **_summary_fields(collection, who.organisation_id),
        description=collection.description,
        starts_on=collection.starts_on,
        deadline_days=collection.deadline_days,
        deadline_time=collection.deadline_time,
        invalid_rows=collection.invalid_rows,
        contributors=[
            ContributorOut(organisation_id=c.organisation_id, organisation=c.organisation.name)
            for c in contributors
        ],
        periods=statuses,
    )


@router.post(
    "/collections/{collection_id}/submissions", response={202: SubmissionReceived, **MOVES}
)
def submit_return(
    request: HttpRequest,
    collection_id: UUID,
    period: Annotated[str, Form(description=PERIOD_HELP)],
    file: Annotated[UploadedFile, File(description="The CSV, XLSX or ODS file")],
    caveats: Annotated[
        str, Form(max_length=actions.MAX_CAVEATS, description="What people using it should know")
    ] = "",
) -> Status[SubmissionReceived]:
    """Send your organisation's return for a period (multipart/form-data). It is stored
    encrypted and checked in the background: follow ``GET /submissions/{id}`` until its state
    is accepted or rejected. Needs a submitting role at a contributor."""
    who = caller(request)
    collection = queries.collection_for(who.organisation_id, collection_id)
    try:
        day = periods.parse(collection.schedule, period)  # type: ignore[arg-type]
    except ValueError as exc:
        raise Unprocessable(str(exc), [{"path": "period", "message": str(exc)}]) from None
    submission = actions.receive(
        by=who.actor,
        collection=collection,
        period=day,
        filename=file.name or "upload",
        source=file.chunks(),
        caveats=caveats,
        via="api",
    )
    submission.refresh_from_db(fields=["state", "progress"])
    return Status(
        202,
        SubmissionReceived(
            id=str(submission.pk),
            state=submission.state,
            progress_id=str(submission.progress_id) if submission.progress_id else None,
        ),
    )


@router.get("/submissions/{submission_id}", response={200: SubmissionOut, **DENIALS})
def get_submission(request: HttpRequest, submission_id: UUID) -> SubmissionOut:
    """A return's state, counts, the reason it was rejected, the problems counted by rule,
    its caveats and how far its check has got. Nothing from the file's cells."""
    who = caller(request)
    return _submission(queries.submission_for(who.organisation_id, submission_id))


@router.get(
    "/submissions/{submission_id}/problems",
    response={**DENIALS},
    openapi_extra={"responses": {200: {"description": "Every problem, as CSV", **CSV}}},
)
def get_submission_problems(request: HttpRequest, submission_id: UUID) -> HttpResponse:
    """Every problem the check found, by row and column, as CSV. Only for the organisation
    that sent the return; 404 when the check found none."""
    who = caller(request)
    submission = queries.submission_for(who.organisation_id, submission_id)
    problems = queries.problems_of(submission, by=who.actor)
    if problems is None:
        raise Http404("The check found no problems in this return, or has not finished.")
    return _csv(problems, f"problems-{submission.pk}.csv")


@router.get(
    "/collections/{collection_id}/compiled",
    response={**DENIALS},
    openapi_extra={
        "responses": {200: {"description": "The compiled dataset with provenance, as CSV", **CSV}}
    },
)
def get_compiled_collection(request: HttpRequest, collection_id: UUID) -> HttpResponse:
    """The newest compiled dataset as CSV: every contributor's latest accepted return for each
    period, each row with its period, organisation, submission and source row. Only for the
    organisation that runs the collection; 404 before the first compilation."""
    who = caller(request)
    collection = queries.collection_for(who.organisation_id, collection_id)
    found = queries.compiled_rows(collection, by=who.actor)
    if found is None:
        raise Http404("Nothing has been compiled yet: no return has been accepted.")
    compilation, frame = found
    return _csv(frame, f"{collection.slug}-compiled-{compilation.number}.csv")
