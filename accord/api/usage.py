"""Who used shared data, and the audit bundle, through the API: the same queries as the pages.

``GET /usage/`` lists the uses of data the caller's organisation controls (by default by other
organisations and by Accord's tasks); ``GET /usage/history/`` the organisation's own reads of
shared data. Both need one of the roles the pages need (403, audited, otherwise) and are
paginated with ``limit`` and ``offset``.

``GET /audit/bundle/`` is the organisation's own audit events and every signed checkpoint as
one JSON document, to check offline with ``accord audit verify --bundle FILE``; it needs an
audit-reading role. ``GET /audit/checkpoints/`` lists the signed checkpoints (any token).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Field, Query, Router, Schema

from accord.access import usage
from accord.audit import bundle
from accord.audit.actions import record
from accord.audit.checkpoints import checkpoint_document
from accord.audit.queries import list_checkpoints
from accord.organisations.enums import Role

from .agreements import DENIALS, _require
from .auth import caller
from .errors import Unprocessable
from .schemas import Invalid

router = Router(tags=["usage and audit"])

MAX_LIMIT = 500
# The audit log's readers (the audit log page's roles, accord/web/views/home.py).
AUDIT_READERS = (Role.ORGANISATION_ADMIN, Role.DPO, Role.SIRO)
ACTION_CODES = {code for code, _ in usage.ACTION_CHOICES}


class UsageQuery(Schema):
    organisation: str = Field(
        "",
        description="For /usage/: the reading organisation's id, or 'tasks' for Accord's own "
        "tasks. For /usage/history/: the providing organisation's id.",
    )
    agreement: str = Field("", description="An agreement's id")
    outcome: Literal["", "permitted", "refused"] = ""
    action: str = Field(
        "", description="view, extract, aggregate, link, api_read, or download (an extract)"
    )
    since: dt.date | None = Field(None, description="From this day (site time zone), included")
    until: dt.date | None = Field(None, description="To this day (site time zone), included")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0)


class UsesQuery(UsageQuery):
    who: Literal["others", "ours", "all"] = Field(
        "others",
        description="others: other organisations and Accord's tasks; ours: your own "
        "organisation's reads of its own data; all: both",
    )


class UsageOut(Schema):
    seq: int = Field(description="The audit event's number")
    when: dt.datetime
    reader_organisation_id: str
    reader_organisation: str
    provider_organisation_id: str
    provider_organisation: str
    person: str = Field(description="The person (email) or Accord's task that asked")
    by_task: bool
    roles: list[str] = Field(description="The reader's roles when it asked, where recorded")
    action: str
    action_label: str
    purpose: str
    agreement_id: str = Field(description="The agreement the access rested on; '' for none")
    agreement_title: str
    permitted: bool
    what: str = Field(description="What was read, as the vault describes it")
    resource: str = Field(description="kind:id of what was read")
    fields: list[str]
    rows: int | None = Field(description="Rows delivered, where known")
    reason: str


class UsagePage(Schema):
    count: int = Field(description="Every matching use, across all pages")
    limit: int
    offset: int
    items: list[UsageOut] = Field(description="Newest first")


class CheckpointOut(Schema):
    chain: str
    seq: int
    hash: str
    signed_at: str
    key_id: str
    signature: str = Field(description="Ed25519 over the RFC 8785 JSON of the fields above")
    public_key: str | None = Field(
        None, description="Accord's key when it signed; pin a key you obtained separately"
    )


def _filters(query: UsageQuery, who: str = "others") -> usage.UsageFilters:
    if query.action and query.action not in ACTION_CODES:
        message = f"Choose the action from: {', '.join(sorted(ACTION_CODES))}."
        raise Unprocessable(message, [{"path": "action", "message": message}])
    if query.since and query.until and query.since > query.until:
        message = "The until date must be the same as or after the since date."
        raise Unprocessable(message, [{"path": "until", "message": message}])
    return usage.UsageFilters(
        who=who,  # type: ignore[arg-type]
        organisation=query.organisation.strip(),
        agreement=query.agreement.strip(),
        outcome=query.outcome,
        action=query.action,
        since=query.since,
        until=query.until,
    )


def _page(found: Any, query: UsageQuery) -> UsagePage:
    window = found[query.offset : query.offset + query.limit]
    rows = usage.rows_of(window)
    return UsagePage(
        count=found.count(),
        limit=query.limit,
        offset=query.offset,
        items=[
            UsageOut(
                **{
                    **{k: v for k, v in vars(r).items() if k not in {"roles", "fields"}},
                    "roles": list(r.roles),
                    "fields": list(r.fields),
                }
            )
            for r in rows
        ],
    )


@router.get("/usage/", response={200: UsagePage, **DENIALS, 422: Invalid})
def list_data_uses(request: HttpRequest, query: Query[UsesQuery]) -> UsagePage:
    """Who used your organisation's data: every access decision (permitted or refused) and
    extract download on data it controls, newest first."""
    who = caller(request)
    _require(who, usage.USAGE_READERS, "see who used its data", "usage")
    found = usage.uses_of_data_of(who.organisation_id, _filters(query, query.who))
    return _page(found, query)


@router.get("/usage/history/", response={200: UsagePage, **DENIALS, 422: Invalid})
def list_access_history(request: HttpRequest, query: Query[UsageQuery]) -> UsagePage:
    """Your organisation's access history: every read of shared data (permitted or refused) by
    people and systems acting for it, newest first."""
    who = caller(request)
    _require(who, usage.HISTORY_READERS, "see its access history", "usage:history")
    found = usage.access_history_of(who.organisation_id, _filters(query))
    return _page(found, query)


@router.get(
    "/audit/bundle/",
    response={**DENIALS},
    openapi_extra={
        "responses": {
            200: {
                "description": "Your organisation's audit events (each with every hashed field "
                "and its hash), every signed checkpoint and Accord's public key, as one JSON "
                "document. Check it offline: accord audit verify --bundle FILE --public-key PEM",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        }
    },
)
def get_audit_bundle(request: HttpRequest) -> StreamingHttpResponse:
    """Your organisation's audit events and the signed checkpoints, as a JSON download."""
    who = caller(request)
    _require(who, AUDIT_READERS, "download its audit events", "audit:bundle")
    record(
        by=who.actor,
        action=bundle.DOWNLOADED_ACTION,
        target=f"organisation:{who.organisation_id}",
        details={"via": "api", "token": who.token.prefix},
    )
    response = StreamingHttpResponse(
        bundle.bundle_json_chunks(who.organisation_id), content_type="application/json"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{bundle.filename_for(who.organisation_id)}"'
    )
    return response


@router.get("/audit/checkpoints/", response={200: list[CheckpointOut], **DENIALS})
def list_audit_checkpoints(request: HttpRequest) -> list[dict[str, Any]]:
    """Accord's signed audit checkpoints, newest first (at most 100)."""
    caller(request)
    return [checkpoint_document(c) for c in list_checkpoints()[:100]]
