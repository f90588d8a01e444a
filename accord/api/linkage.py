"""Record linkage through the API: the datasets your organisation may link, its linkage jobs
and their quality figures, making a job, and the linked results. The same rules as the pages
(``accord.linkage``): every dataset is decided for linkage when the job is made and again when
it runs, and reading a result is a decision (view, for the job's purpose) with this API
token's own scope.

Needs an analyst, data officer, information asset owner or DPO. Jobs of other organisations are
404, the same as ones that do not exist.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from accord.access.transform import csv_bytes
from accord.linkage import actions as linkage
from accord.linkage import queries
from accord.linkage.models import LinkageJob

from .agreements import DENIALS, MOVES, _require
from .auth import Caller, caller

router = Router(tags=["linkage"])
LINKING = "link records"


class LinkableSourceOut(Schema):
    ref: str
    name: str
    standard: str
    provider: str
    yours: bool
    purposes: list[str]  # the purposes it may be linked for (empty for your own data: any)
    compared_on: list[str]


class JobIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    entity: Literal["person", "property"]
    sources: list[str] = Field(min_length=2, description="Refs from GET /linkage/sources")
    purpose: str = Field(min_length=1, max_length=500)
    leave_out: list[str] = Field(
        default_factory=list, description="Comparisons of the template to switch off"
    )
    keyed: bool = False


class JobOut(Schema):
    id: uuid.UUID
    name: str
    entity: str
    purpose: str
    state: str
    message: str
    runs: int
    sources: list[dict[str, Any]]
    agreements: list[dict[str, Any]]
    model: dict[str, Any]
    keyed: bool
    created_at: dt.datetime
    finished_at: dt.datetime | None
    progress_done: int | None
    progress_total: int | None
    stats: dict[str, Any]


def _linker(request: HttpRequest, target: str = "") -> Caller:
    who = caller(request)
    _require(who, linkage.LINKING_ROLES, LINKING, target)
    return who


def _job(job: LinkageJob) -> JobOut:
    progress = job.progress
    return JobOut(
        id=job.pk,
        name=job.name,
        entity=job.entity,
        purpose=job.purpose,
        state=job.state,
        message=job.message,
        runs=job.runs,
        sources=job.sources,
        agreements=job.agreements,
        model=job.model,
        keyed=job.keyed,
        created_at=job.created_at,
        finished_at=job.finished_at,
        progress_done=progress.done if progress else None,
        progress_total=progress.total if progress else None,
        stats=job.stats,
    )


def _mine(who: Caller, job_id: uuid.UUID) -> LinkageJob:
    try:
        return queries.job_for(who.organisation_id, job_id)
    except queries.JobNotFound:
        raise Http404("There is no such linkage job for your organisation.") from None


@router.get(
    "/linkage/sources",
    response={200: list[LinkableSourceOut], 401: DENIALS[401], 403: DENIALS[403]},
    summary="Datasets your organisation may link",
)
def list_sources(request: HttpRequest) -> list[LinkableSourceOut]:
    """Your organisation's own collections, and those an agreement in force shares with it for
    linkage, with the purposes each may be linked for and what it can be compared on."""
    who = _linker(request)
    return [
        LinkableSourceOut(
            ref=s.ref,
            name=s.name,
            standard=s.standard,
            provider=s.provider,
            yours=s.own,
            purposes=list(s.purposes),
            compared_on=list(s.parts),
        )
        for s in queries.linkable_sources(who.membership.organisation)
    ]


@router.get(
    "/linkage/jobs",
    response={200: list[JobOut], 401: DENIALS[401], 403: DENIALS[403]},
    summary="Your organisation's linkage jobs",
)
def list_jobs(request: HttpRequest) -> list[JobOut]:
    who = _linker(request)
    return [_job(job) for job in queries.jobs_for(who.organisation_id)]


@router.post(
    "/linkage/jobs",
    response={202: JobOut, **MOVES},
    summary="Make a linkage job and run it",
)
def create_job(request: HttpRequest, body: JobIn) -> Status[JobOut]:
    """Link two or more datasets from ``GET /linkage/sources`` for a purpose. The decision
    point decides each at once: 403 with its reason when one may not be linked for that
    purpose (the refusal is in the audit chain); 409 for a choice that cannot be linked (fewer
    than two datasets, one you cannot use, no completed DPIA on an agreement). Otherwise the
    job runs in the background (202): follow ``GET /linkage/jobs/{id}`` until its state is
    done, refused or failed."""
    who = _linker(request, target="linkage_job:new")
    job = linkage.create_job(
        by=who.actor,
        name=body.name,
        entity=body.entity,
        refs=body.sources,
        purpose=body.purpose,
        disabled=body.leave_out,
        keyed=body.keyed,
    )
    return Status(202, _job(_mine(who, job.pk)))


@router.get(
    "/linkage/jobs/{job_id}",
    response={200: JobOut, **DENIALS},
    summary="A linkage job: its state, progress and quality figures",
)
def get_job(request: HttpRequest, job_id: uuid.UUID) -> JobOut:
    """The job's state and progress; once linked, its quality figures (records per dataset,
    links per stage, the match-probability histogram, estimated precision and recall, and the
    clerical review's counts)."""
    who = _linker(request, target=f"linkage_job:{job_id}")
    return _job(_mine(who, job_id))


@router.get(
    "/linkage/jobs/{job_id}/{which}.csv",
    response={200: None, **DENIALS},
    summary="A linkage job's linked records or household view, as CSV",
)
def get_result(
    request: HttpRequest, job_id: uuid.UUID, which: Literal["linked", "view"]
) -> HttpResponse:
    """``linked``: every record with the entity it joined, the stage and probability, and the
    fields its agreement lets you see; ``view``: one row per household (the single view of
    vulnerability only). 403 with the decision point's reason when it says no."""
    who = _linker(request, target=f"linkage_job:{job_id}")
    job = _mine(who, job_id)
    try:
        frame = queries.read_result(job, which, by=who.actor)
    except queries.JobNotFound:
        raise Http404("This job has no such result.") from None
    response = HttpResponse(csv_bytes(frame), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="linkage-{job.pk}-{which}.csv"'
    return response
