"""Data shared between organisations through the API: what agreements in force share with the
caller's organisation, record-level extracts of it, and releases a provider publishes to every
recipient at once. The same rules as the pages (``accord.access``): the decision point decides
every extract when it is asked for, while it is built and at every download, with the API
token's own scope (agreements, actions) read afresh each time.

Everything here needs a role that reads data (data officer, analyst, DPO, Caldicott Guardian,
SIRO, information asset owner), except asking for an extract and downloading it, where the
decision point itself says no (403, with its reason, in the audit chain); publishing needs a
data officer, analyst or information asset owner. Extracts, sources and releases that are not
the caller's organisation's are 404, the same as ones that do not exist.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from django.http import Http404, HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.utils import timezone
from ninja import Field, File, Form, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from pydantic import field_validator

from accord.access import extracts as extract_rules
from accord.access import releases as release_rules
from accord.access.decisions import FieldGrant, generalisation_level
from accord.access.enums import PURPOSE_MAX_LENGTH
from accord.access.extracts import Source, SourceNotFound
from accord.access.models import Extract, ExtractState, Grant, Release
from accord.access.models import ReleaseRecipient as Recipient
from accord.audit.actions import record
from accord.audit.enums import Outcome
from accord.audit.exceptions import NotPermitted, Refused
from accord.organisations.enums import DATA_READING_ROLES

from .agreements import DENIALS, _require
from .auth import Caller, caller
from .errors import Unprocessable
from .schemas import Invalid, Problem

router = Router(tags=["sharing"])

API = "/api/v1"
# The largest file a release may be published from, as on the page.
MAX_UPLOAD_BYTES = 256 * 1024 * 1024
SOURCE_HELP = (
    'What to take the extract of: a source from GET /shared, "collection:<id>" (the newest '
    'compilation of a collection) or "release:<id>" (your slice of a release)'
)
FILE_TYPES = {
    "application/zip": {"schema": {"type": "string", "format": "binary"}},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
        "schema": {"type": "string", "format": "binary"}
    },
    "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
}
READING = "see data shared with it, and extracts of it"


# What is sent back ------------------------------------------------------------------------------


class AgreementRef(Schema):
    id: str
    title: str


class FieldShared(Schema):
    name: str
    transformation: str = Field(
        description="What the agreement says is done before it is shared: none, "
        "pseudonymise_keyed_hash, generalise, truncate, suppress or aggregate"
    )
    shared_as: str = Field(
        description="What you receive: as_is, pseudonymised, generalised (see level) or "
        "withheld (it never leaves as a record-level value)"
    )
    level: str | None = Field(
        description="For generalised fields: postcode_sector, postcode_district, age_band or year"
    )


class RowLimit(Schema):
    column: str
    values: list[str] = Field(description="Only rows with one of these values: your area")


class SourceOut(Schema):
    ref: str = Field(description='Pass as "source" to POST /extracts')
    kind: str = Field(description="collection or release")
    name: str
    provider_id: int
    provider: str


class GrantOut(Schema):
    provider_id: int
    provider: str
    agreement: AgreementRef
    token_may_use: bool = Field(
        description="False when the API token you called with is limited to other agreements"
    )
    flow_id: str
    dataset: str = Field(description="The data standard's slug")
    dataset_name: str
    purposes: list[str] = Field(description="The purposes it may be used for: pass one to extract")
    actions: list[str] = Field(
        description="What the agreement allows: view, extract, aggregate_only, link"
    )
    fields: list[FieldShared]
    row_limit: RowLimit | None = Field(description="Only your area's rows; null for every row")
    frequency: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    review_on: dt.date | None
    retention: str = Field(description="ISO 8601 period you may keep a copy for; '' if not set")
    sources: list[SourceOut] = Field(description="What you can take an extract of under it")


class ProgressOut(Schema):
    state: str = Field(description="queued, running, done or failed")
    done: int
    total: int | None = Field(description="null while unknown")
    percent: int | None
    message: str


class Generalised(Schema):
    field: str
    level: str


class ConditionsOut(Schema):
    pseudonymised: list[str] = Field(description="Fields replaced by this agreement's pseudonyms")
    generalised: list[Generalised]
    rows_limited_to: list[RowLimit]
    fields_withheld: list[str]


class ExtractSummary(Schema):
    id: str
    name: str
    state: str = Field(description="queued, building, ready, refused or failed")
    state_label: str
    source: str = Field(description='What it was taken of: "collection:<id>" or "release:<id>"')
    provider_id: int
    provider: str
    purpose: str
    format: str
    agreement: AgreementRef | None
    created_at: dt.datetime
    progress: ProgressOut | None


class ExtractDetail(ExtractSummary):
    message: str = Field(description="Why it was refused or failed, when it was")
    conditions: ConditionsOut = Field(description="What the agreement's conditions did to it")
    rows: int | None
    fields: list[str]
    caveats: str
    requested_by: str
    built_at: dt.datetime | None
    delete_by: dt.datetime | None = Field(
        description="Delete every copy you downloaded by then (the earliest retention deadline)"
    )
    first_downloaded_at: dt.datetime | None
    downloads: int
    download: str | None = Field(description="Where to download it, once ready")


class ExtractIn(Schema):
    source: str = Field(description=SOURCE_HELP, max_length=100)
    purpose: str = Field(
        min_length=1,
        max_length=PURPOSE_MAX_LENGTH,
        description="One of the agreement's purposes, as GET /shared lists them",
    )
    format: Literal["csv", "xlsx", "parquet"] = Field(
        "csv", description="csv (zipped, with a data package description), xlsx or parquet"
    )

    @field_validator("source")
    @classmethod
    def _source_ref(cls, value: str) -> str:
        kind, _, key = value.strip().partition(":")
        try:
            uuid.UUID(key)
        except ValueError:
            raise ValueError(
                'Give a source from GET /shared, like "collection:<id>" or "release:<id>".'
            ) from None
        if kind not in ("collection", "release"):
            raise ValueError('A source is "collection:<id>" or "release:<id>".')
        return value.strip()


class PickupOut(Schema):
    organisation_id: int
    organisation: str
    rows: int = Field(description="The rows of its slice")
    notified_at: dt.datetime | None
    received_at: dt.datetime | None = Field(description="Its first download; null until then")
    received_by: str


class ReleaseSummary(Schema):
    id: str
    label: str
    agreement: AgreementRef
    flow_id: str
    dataset: str
    provider_id: int
    provider: str
    you_published: bool = Field(description="True when your organisation published it")
    source: str = Field(description='Pass as "source" to POST /extracts to download your slice')
    rows: int = Field(
        description="For the provider, every row published; for a recipient, its slice's rows"
    )
    published_at: dt.datetime
    published_by: str
    received_at: dt.datetime | None = Field(
        description="For a recipient, when it first downloaded its slice; null for the provider"
    )
    picked_up: int | None = Field(
        description="For the provider, how many recipients have downloaded their slice"
    )
    recipients: int | None = Field(description="For the provider, how many recipients it has")


class ReleaseDetail(ReleaseSummary):
    caveats: str
    pickups: list[PickupOut] = Field(
        description="For the provider, each recipient's slice and pickup; empty for recipients"
    )


class PickupRecipient(Schema):
    organisation_id: int
    organisation: str


class OutletOut(Schema):
    key: str = Field(description='Pass as "outlet" to POST /releases')
    label: str
    agreement: AgreementRef
    flow_id: str
    dataset_id: str
    dataset: str = Field(description="The data standard's slug the file must follow")
    dataset_name: str
    frequency: str
    recipients: list[PickupRecipient]
    last_release_id: str | None
    last_published_at: dt.datetime | None
    next_due: dt.datetime | None = Field(description="By the flow's frequency; null when unknown")
    overdue: bool


# Shaping ---------------------------------------------------------------------------------------


def _field(field: dict[str, Any]) -> FieldShared:
    name = str(field.get("name", ""))
    how = str(field.get("transformation") or "none")
    level: str | None = None
    if how == "pseudonymise_keyed_hash":
        shared_as = "pseudonymised"
    elif how in ("generalise", "truncate"):
        level = (
            generalisation_level(
                FieldGrant(
                    name=name,
                    transformation=how,
                    data_type=str(field.get("data_type") or "string"),
                    identifier_type=str(field.get("identifier_type") or ""),
                )
            )
            or None
        )
        shared_as = "generalised" if level else "withheld"
    elif how in ("suppress", "aggregate"):
        shared_as = "withheld"
    else:
        shared_as = "as_is"
    return FieldShared(name=name, transformation=how, shared_as=shared_as, level=level)


def _row_limit(row_filter: dict[str, Any] | None) -> RowLimit | None:
    if not row_filter:
        return None
    return RowLimit(
        column=str(row_filter.get("column", "")),
        values=[str(v) for v in row_filter.get("values", [])],
    )


def _source(source: Source) -> SourceOut:
    return SourceOut(
        ref=source.ref,
        kind=source.ref.partition(":")[0],
        name=source.name,
        provider_id=source.provider.pk,
        provider=source.provider.name,
    )


def _token_agreements(who: Caller) -> set[str]:
    """The agreements the calling token is limited to, read now; empty for any."""
    return {str(pk) for pk in who.token.agreements.values_list("pk", flat=True)}


def _grant(grant: Grant, sources: list[Source], scope: set[str]) -> GrantOut:
    agreement = grant.agreement
    assert agreement is not None  # shared_with lists only agreements' grants
    return GrantOut(
        provider_id=grant.provider_id,
        provider=grant.provider.name,
        agreement=AgreementRef(id=str(agreement.pk), title=agreement.title),
        token_may_use=not scope or str(agreement.pk) in scope,
        flow_id=grant.flow_id,
        dataset=grant.dataset,
        dataset_name=grant.dataset_name,
        purposes=[str(title) for _, title in grant.purposes],
        actions=[str(a) for a in grant.actions],
        fields=[_field(f) for f in grant.fields],
        row_limit=_row_limit(grant.row_filter),
        frequency=grant.frequency,
        starts_on=grant.starts_on,
        ends_on=grant.ends_on,
        review_on=grant.review_on,
        retention=grant.retention,
        sources=[_source(s) for s in sources],
    )


def _source_ref(extract: Extract) -> str:
    if extract.release_id is not None:
        return f"release:{extract.release_id}"
    if extract.collection_id is not None:
        return f"collection:{extract.collection_id}"
    return f"vault:{extract.source_id}"


def _progress(extract: Extract) -> ProgressOut | None:
    progress = extract.progress
    if progress is None:
        return None
    return ProgressOut(
        state=progress.state,
        done=progress.done,
        total=progress.total,
        percent=progress.percent,
        message=progress.message,
    )


def _summary_fields(extract: Extract) -> dict[str, Any]:
    agreement = extract.agreement
    return {
        "id": str(extract.pk),
        "name": extract.name,
        "state": extract.state,
        "state_label": ExtractState(extract.state).label,
        "source": _source_ref(extract),
        "provider_id": extract.provider_id,
        "provider": extract.provider.name,
        "purpose": extract.purpose,
        "format": extract.format,
        "agreement": (
            AgreementRef(id=str(agreement.pk), title=agreement.title) if agreement else None
        ),
        "created_at": extract.created_at,
        "progress": _progress(extract),
    }


def _conditions(applied: dict[str, Any]) -> ConditionsOut:
    return ConditionsOut(
        pseudonymised=[str(f) for f in applied.get("pseudonymised", [])],
        generalised=[
            Generalised(field=str(f), level=str(level))
            for f, level in applied.get("generalised", [])
        ],
        rows_limited_to=[
            RowLimit(column=str(c), values=[str(v) for v in values])
            for c, values in applied.get("rows_limited_to", [])
        ],
        fields_withheld=[str(f) for f in applied.get("fields_withheld", [])],
    )


def _extract(extract: Extract) -> ExtractDetail:
    ready = extract.state == ExtractState.READY
    return ExtractDetail(
        **_summary_fields(extract),
        message=extract.message,
        conditions=_conditions(extract.applied or {}),
        rows=extract.rows,
        fields=[str(f) for f in extract.fields or []],
        caveats=extract.caveats,
        requested_by=extract.requested_by_label,
        built_at=extract.built_at,
        delete_by=extract_rules.delete_by(extract),
        first_downloaded_at=extract.first_downloaded_at,
        downloads=extract.downloads,
        download=f"{API}/extracts/{extract.pk}/download" if ready else None,
    )


def _release_fields(
    release: Release,
    organisation_id: int,
    own: Recipient | None,
    pickups: list[Recipient] | None,
) -> dict[str, Any]:
    provider = release.provider_id == organisation_id
    return {
        "id": str(release.pk),
        "label": release.label,
        "agreement": AgreementRef(id=str(release.agreement_id), title=release.agreement.title),
        "flow_id": release.flow_id,
        "dataset": release.dataset,
        "provider_id": release.provider_id,
        "provider": release.provider.name,
        "you_published": provider,
        "source": f"release:{release.pk}",
        "rows": release.rows if provider else (own.rows if own else 0),
        "published_at": release.published_at,
        "published_by": release.published_by_label,
        "received_at": own.received_at if own and not provider else None,
        "picked_up": (
            sum(1 for p in pickups if p.received_at is not None) if pickups is not None else None
        ),
        "recipients": len(pickups) if pickups is not None else None,
    }


def _pickup(recipient: Recipient) -> PickupOut:
    return PickupOut(
        organisation_id=recipient.organisation_id,
        organisation=recipient.organisation.name,
        rows=recipient.rows,
        notified_at=recipient.notified_at,
        received_at=recipient.received_at,
        received_by=recipient.received_by_label,
    )


def _release_detail(release: Release, organisation_id: int) -> ReleaseDetail:
    provider = release.provider_id == organisation_id
    pickups = list(release.recipients.select_related("organisation")) if provider else None
    own = None if provider else release.recipients.filter(organisation_id=organisation_id).first()
    return ReleaseDetail(
        **_release_fields(release, organisation_id, own, pickups),
        caveats=release.caveats,
        pickups=[_pickup(p) for p in pickups or []],
    )


def _refuse(who: Caller, reason: str, target: str) -> None:
    """Refuse (403), recording the refusal as the role checks do."""
    record(
        by=who.actor,
        action="api.request_refused",
        target=target,
        outcome=Outcome.REFUSED,
        reason=reason,
        details={"via": "api", "token": who.token.prefix},
    )
    raise NotPermitted(reason, target=target)


def _reader(request: HttpRequest, target: str = "") -> Caller:
    who = caller(request)
    _require(who, DATA_READING_ROLES, READING, target)
    return who


def _mine(who: Caller, extract_id: uuid.UUID) -> Extract:
    try:
        return extract_rules.extract_for(who.organisation_id, extract_id)
    except Extract.DoesNotExist:
        raise Http404("There is no such extract for your organisation.") from None


def _sorted_releases(items: Iterable[tuple[Release, dict[str, Any]]]) -> list[ReleaseSummary]:
    ordered = sorted(items, key=lambda item: item[0].published_at, reverse=True)
    return [ReleaseSummary(**fields) for _, fields in ordered]


# Endpoints --------------------------------------------------------------------------------------


@router.get(
    "/shared",
    response={200: list[GrantOut], 401: Problem, 403: Problem},
    summary="What agreements in force share with your organisation",
)
def list_shared(request: HttpRequest) -> list[GrantOut]:
    """Each grant to your organisation under an agreement in force: who provides it, under
    which agreement, the dataset, the purposes it may be used for, what may be done with it,
    each field and what is done to it before you receive it, which rows, the term, and the
    compiled collections and releases you can take an extract of (``sources``). Needs a role
    that reads data."""
    who = _reader(request)
    scope = _token_agreements(who)
    return [
        _grant(item.grant, item.sources, scope)
        for item in extract_rules.shared_with(who.membership.organisation)
    ]


@router.get(
    "/extracts",
    response={200: list[ExtractSummary], 401: Problem, 403: Problem},
    summary="Your organisation's extracts",
)
def list_extracts(request: HttpRequest) -> list[ExtractSummary]:
    """Extracts asked for by your organisation, newest first, with their state and progress.
    Needs a role that reads data."""
    who = _reader(request)
    return [
        ExtractSummary(**_summary_fields(e)) for e in extract_rules.extracts_of(who.organisation_id)
    ]


@router.post(
    "/extracts",
    response={202: ExtractDetail, **DENIALS, 422: Invalid},
    summary="Ask for an extract",
)
def request_extract(request: HttpRequest, body: ExtractIn) -> Status[ExtractDetail]:
    """Ask for a record-level extract of a source from ``GET /shared`` for one of its
    agreement's purposes. The decision point decides at once: 403 with its reason when it
    says no (your roles, the agreement's state, term, purposes or actions, or this API token's
    scope); that refusal is in the audit chain. Otherwise the extract is built in the
    background with the agreement's conditions applied (202): follow
    ``GET /extracts/{id}`` until its state is ready, refused or failed. 404 for a source that
    does not exist or is not shared with your organisation."""
    who = caller(request)
    try:
        source = extract_rules.source_for(who.organisation_id, body.source)
    except SourceNotFound:
        raise Http404(
            f"There is no source {body.source} for your organisation. GET /shared lists the "
            "sources you can take an extract of."
        ) from None
    # AccessDenied (a NotPermitted) is 403 with the decision point's reason.
    extract = extract_rules.request_extract(
        by=who.actor,
        source=source.data,
        purpose=body.purpose,
        fmt=body.format,
        collection=source.collection,
        release=source.release,
    )
    return Status(202, _extract(_mine(who, extract.pk)))


@router.get(
    "/extracts/{extract_id}",
    response={200: ExtractDetail, **DENIALS},
    summary="An extract: its state, progress and conditions",
)
def get_extract(request: HttpRequest, extract_id: uuid.UUID) -> ExtractDetail:
    """The extract's state and progress (done, total, message); once built, the conditions
    applied to it (fields pseudonymised, generalised and withheld; rows limited to your area),
    its rows and fields, the agreement it was made under, and the date by which every copy
    must be deleted. Needs a role that reads data; 404 for another organisation's."""
    who = _reader(request, target=f"extract:{extract_id}")
    return _extract(_mine(who, extract_id))


@router.get(
    "/extracts/{extract_id}/download",
    response={**DENIALS, 409: Problem},
    summary="Download an extract",
    openapi_extra={
        "responses": {
            200: {
                "description": "The extract's file: a zip (CSV and its data package "
                "description), an XLSX workbook or a Parquet file, as asked for",
                "content": FILE_TYPES,
            }
        }
    },
)
def download_extract(request: HttpRequest, extract_id: uuid.UUID) -> HttpResponseBase:
    """The extract's file, streamed. The decision point decides again: 403 with its reason
    when the extract may no longer be read (the agreement suspended or ended, your roles or
    this API token's scope changed). 409 when it is not ready (still being built, refused or
    failed). The first download records the copy now held outside Accord, which must be
    deleted by ``delete_by``; for a release, it is your receipt."""
    who = caller(request)
    extract = _mine(who, extract_id)
    if extract.state != ExtractState.READY or extract.data is None:
        state = ExtractState(extract.state)
        why = f": {extract.message}" if extract.message else "."
        if state in (ExtractState.QUEUED, ExtractState.BUILDING):
            why = ". Follow GET /extracts/{id} until its state is ready."
        raise HttpError(409, f"This extract is not ready to download: {state.label.lower()}{why}")
    download = extract_rules.open_extract(extract, by=who.actor)
    response = StreamingHttpResponse(iter(download.reader), content_type=download.content_type)
    response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    response["Cache-Control"] = "no-store"
    return response


@router.get(
    "/releases",
    response={200: list[ReleaseSummary], 401: Problem, 403: Problem},
    summary="Releases your organisation published or receives",
)
def list_releases(request: HttpRequest) -> list[ReleaseSummary]:
    """Releases your organisation published (with how many recipients have picked theirs up)
    and releases published to it (with the rows of its slice and when it first downloaded
    it), newest first. Needs a role that reads data."""
    who = _reader(request)
    organisation_id = who.organisation_id
    published = [
        (r, _release_fields(r, organisation_id, None, list(r.recipients.all())))
        for r in release_rules.releases_by(organisation_id).select_related("provider")
    ]
    received = [
        (item.release, _release_fields(item.release, organisation_id, item, None))
        for item in release_rules.releases_to(organisation_id)
    ]
    return _sorted_releases([*published, *received])


@router.get(
    "/releases/outlets",
    response={200: list[OutletOut], 401: Problem, 403: Problem},
    summary="Where your organisation may publish",
)
def list_outlets(request: HttpRequest) -> list[OutletOut]:
    """Each dataset your organisation provides under a flow of an agreement in force, the
    recipients a release reaches, its last release and when the next is due by the flow's
    frequency. Pass an outlet's ``key`` to ``POST /releases``. An API token limited to some
    agreements sees only theirs. Needs a data officer, analyst or information asset owner."""
    who = caller(request)
    _require(who, release_rules.PUBLISHING_ROLES, "publish data")
    scope = _token_agreements(who)
    now = timezone.now()
    return [
        OutletOut(
            key=s.outlet.key,
            label=s.outlet.label,
            agreement=AgreementRef(id=str(s.outlet.agreement.pk), title=s.outlet.agreement.title),
            flow_id=s.outlet.flow_id,
            dataset_id=s.outlet.dataset_id,
            dataset=s.outlet.dataset,
            dataset_name=s.outlet.dataset_name,
            frequency=s.outlet.frequency,
            recipients=[
                PickupRecipient(organisation_id=o.pk, organisation=o.name)
                for o in s.outlet.recipients
            ],
            last_release_id=str(s.last.pk) if s.last else None,
            last_published_at=s.last.published_at if s.last else None,
            next_due=s.due,
            overdue=s.overdue(now),
        )
        for s in release_rules.schedules_of(who.membership.organisation)
        if not scope or str(s.outlet.agreement.pk) in scope
    ]


@router.post(
    "/releases",
    response={201: ReleaseDetail, 401: Problem, 403: Problem, 422: Invalid},
    summary="Publish a release to every recipient",
)
def publish_release(
    request: HttpRequest,
    outlet: Annotated[
        str, Form(max_length=200, description="An outlet's key from GET /releases/outlets")
    ],
    label: Annotated[
        str, Form(min_length=1, max_length=200, description="Its name, e.g. Week ending 13 March")
    ],
    file: Annotated[
        UploadedFile, File(description="CSV, XLSX or ODS, filled in to the dataset's standard")
    ],
    caveats: Annotated[
        str, Form(max_length=5000, description="What the recipients should know about it")
    ] = "",
) -> Status[ReleaseDetail]:
    """Publish a file once to every recipient the outlet's flow names (multipart/form-data):
    each is told, and can take its own slice as an extract (``POST /extracts`` with the
    release as source). Every row is checked against the dataset's standard first; a file
    with problems is refused (422) naming the first rows and columns and what is wrong, and
    nothing is published. Needs a data officer, analyst or information asset owner; an API
    token limited to some agreements publishes only under those."""
    who = caller(request)
    _require(who, release_rules.PUBLISHING_ROLES, "publish data")
    found = release_rules.outlet_for(who.membership.organisation, outlet)
    if found is None:
        message = (
            "Choose where to publish: the key of one of your outlets from GET /releases/outlets."
        )
        raise Unprocessable(message, [{"path": "outlet", "message": message}])
    scope = _token_agreements(who)
    if scope and str(found.agreement.pk) not in scope:
        _refuse(
            who,
            f"This API token is not allowed to use the agreement “{found.agreement.title}”.",
            f"agreement:{found.agreement.pk}",
        )
    if (file.size or 0) > MAX_UPLOAD_BYTES:
        message = f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
        raise Unprocessable(message, [{"path": "file", "message": message}])
    filename = file.name or "upload.csv"
    try:
        frame = release_rules.frame_from_file(
            release_rules.standard_of(found), filename, file.read()
        )
    except NotPermitted:
        raise
    except Refused as refusal:
        raise Unprocessable(refusal.reason, [{"path": "file", "message": refusal.reason}]) from None
    try:
        release = release_rules.publish(
            by=who.actor,
            agreement=found.agreement,
            flow_id=found.flow_id,
            dataset_id=found.dataset_id,
            label=label,
            frame=frame,
            caveats=caveats,
        )
    except NotPermitted:
        raise
    except Refused as refusal:
        raise Unprocessable(refusal.reason, [{"path": "", "message": refusal.reason}]) from None
    release = Release.objects.select_related("agreement", "provider").get(pk=release.pk)
    return Status(201, _release_detail(release, who.organisation_id))


@router.get(
    "/releases/{release_id}",
    response={200: ReleaseDetail, **DENIALS},
    summary="A release: pickups for its provider, your slice for a recipient",
)
def get_release(request: HttpRequest, release_id: uuid.UUID) -> ReleaseDetail:
    """For the organisation that published it: each recipient's slice and when it first
    downloaded it (its pickup). For a recipient: the rows of its slice, the caveats, and the
    source to pass to ``POST /extracts``. Needs a role that reads data; 404 for anyone else."""
    who = _reader(request, target=f"release:{release_id}")
    try:
        release = release_rules.release_for(who.organisation_id, release_id)
    except Release.DoesNotExist:
        raise Http404("There is no such release for your organisation.") from None
    return _release_detail(release, who.organisation_id)
