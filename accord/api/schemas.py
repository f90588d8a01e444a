"""What the API sends back, as typed schemas (they make the OpenAPI document)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import field_validator

from accord.agreements.frameworks import TEMPLATES
from accord.data_requests.actions import FREQUENCIES


class Problem(Schema):
    """Every error: a sentence a person can act on."""

    detail: str


class FieldError(Schema):
    path: str = Field(description="Where in the request, e.g. parties[0].id")
    message: str


class Invalid(Problem):
    errors: list[FieldError] = []


class PartyOut(Schema):
    party_id: str = Field(description="The party's id in the document")
    organisation_id: int
    organisation: str


class FindingOut(Schema):
    code: str
    severity: str = Field(description="blocker or warning")
    message: str
    path: str


class AgreementSummary(Schema):
    id: str
    title: str
    agreement_type: str
    status: str
    review_state: str = Field(description="not_due, due or overdue, from the review date")
    start_date: dt.date | None
    end_date: dt.date | None
    review_date: dt.date | None
    parties: list[PartyOut]
    created_at: dt.datetime
    activated_at: dt.datetime | None


class AgreementDetail(Schema):
    id: str
    status: str
    review_state: str
    parties: list[PartyOut]
    findings: list[FindingOut]
    document: dict[str, Any] = Field(
        description="The canonical agreement document; see GET /agreements/schema"
    )


class AgreementStatus(Schema):
    id: str
    status: str
    findings: list[FindingOut]


class SignIn(Schema):
    role: str = Field(
        max_length=40, description="The signatory role to sign in, which you must hold, e.g. dpo"
    )


class Reason(Schema):
    reason: str = Field(
        min_length=1, max_length=2000, description="Why, in a sentence the other parties will read"
    )


# Data requests -------------------------------------------------------------------------------


def _template(value: str) -> str:
    if value not in TEMPLATES:
        raise ValueError(f"Choose a kind of agreement: {', '.join(TEMPLATES)}")
    return value


class RequestHolderOut(Schema):
    organisation_id: int
    organisation: str
    answer: str = Field(description="awaiting, approved or declined")
    answer_label: str
    reasons: str = Field(description="Why it declined, when it did")
    answered_by: str
    answered_at: dt.datetime | None
    agreement_id: str | None = Field(description="The agreement drafted when it approved")


class RequestCommentOut(Schema):
    id: int
    organisation_id: int
    organisation: str
    author: str
    body: str
    created_at: dt.datetime


class DataRequestSummary(Schema):
    id: str
    title: str
    status: str = Field(description="open, approved, declined or withdrawn")
    status_label: str
    requester_id: int
    requester: str
    made_by_you: bool = Field(description="True when your organisation made the request")
    framework: str | None = Field(description="The framework's slug, if one was chosen")
    holders: list[RequestHolderOut]
    created_at: dt.datetime
    closed_at: dt.datetime | None


class DataRequestDetail(DataRequestSummary):
    question: str
    reason: str
    standards: list[str]
    data_description: str
    frequency: str
    needed_by: dt.date | None
    requested_by: str
    comments: list[RequestCommentOut]


class RequestSuggestionsIn(Schema):
    title: str = Field(max_length=200)
    question: str = Field("", max_length=5000)
    standards: list[str] = Field(default=[], description="Slugs of published data standards")


class SuggestionOut(Schema):
    kind: str = Field(description="standard, agreement or request")
    title: str
    detail: str
    link: str = Field(description="Where to read it on the site")


class DataRequestIn(Schema):
    title: str = Field(min_length=1, max_length=200)
    question: str = Field(min_length=1, max_length=5000, description="What it would answer")
    reason: str = Field(
        min_length=1, max_length=5000, description="Why: the benefit, and the function it serves"
    )
    holders: list[int] = Field(
        min_length=1, description="Ids of the organisations that hold the data"
    )
    frequency: str = Field(description="How often: " + ", ".join(FREQUENCIES))
    standards: list[str] = Field(default=[], description="Slugs of published data standards")
    data_description: str = Field(
        "", max_length=5000, description="The data wanted, in words, if no standard fits"
    )
    needed_by: dt.date | None = None
    framework: str | None = Field(None, description="Slug of the framework it is under")

    @field_validator("frequency")
    @classmethod
    def _known_frequency(cls, value: str) -> str:
        if value not in FREQUENCIES:
            raise ValueError(f"Choose how often you need the data: {', '.join(FREQUENCIES)}")
        return value


class RequestCommentIn(Schema):
    body: str = Field(min_length=1, max_length=5000)


class RequestApproveIn(Schema):
    framework: str = Field(min_length=1, description="Slug of the framework to draft under")
    agreement_type: str = Field(description="A framework template: see GET /frameworks/{slug}")

    @field_validator("agreement_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return _template(value)


class RequestDeclineIn(Schema):
    reasons: str = Field(
        min_length=1, max_length=5000, description="Why, in words the requester can act on"
    )


class RequestWithdrawIn(Schema):
    reason: str = Field("", max_length=5000)


class RequestApproved(Schema):
    request_id: str
    request_status: str
    agreement_id: str = Field(description="The agreement drafted from the framework's template")
    agreement_status: str


# Frameworks ----------------------------------------------------------------------------------


class FrameworkSummary(Schema):
    slug: str
    name: str
    description: str
    template_types: list[str]
    members: int = Field(description="How many organisations are members")


class FrameworkTemplateOut(Schema):
    agreement_type: str
    title: str
    summary: str
    personal_data: bool
    reciprocal: bool


class FrameworkMemberOut(Schema):
    id: int
    name: str


class FrameworkDetail(Schema):
    slug: str
    name: str
    description: str
    clauses: dict[str, Any] = Field(description="Clauses every agreement under it shares")
    templates: list[FrameworkTemplateOut]
    members: list[FrameworkMemberOut]
    agreements_in_force: int
    median_days_to_active: float | None = Field(
        description="Median whole days from first draft to in force; null until one is"
    )
    days_to_active: list[int] = Field(description="Each agreement's days, shortest first")


# Drafting from a framework, returning and amending ---------------------------------------------


class FromFrameworkIn(Schema):
    framework: str = Field(min_length=1, description="Slug of a framework you are a member of")
    agreement_type: str = Field(description="One of the framework's templates")
    other_organisation_id: int = Field(description="The other party, a member of the framework")
    direction: Literal["provide", "receive"] = Field(
        description="provide (you provide the data) or receive (they provide it to you)"
    )
    title: str = Field(min_length=1, max_length=300)
    standards: list[str] = Field(default=[], description="Slugs of the data standards shared")

    @field_validator("agreement_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return _template(value)


class ChangeOut(Schema):
    path: str = Field(description="Where in the document, e.g. datasets[care-homes].name")
    kind: str = Field(description="added, removed or changed")
    where: str = Field(description="Where, in words")
    old: str | None
    new: str | None


class AgreementChanges(Schema):
    id: str
    version: int
    compared_with: str | None = Field(
        description="What the current version is compared with, in words; null when nothing"
    )
    compared_version: int | None
    compared_agreement_id: str | None = Field(
        description="The agreement it amends, when compared with that"
    )
    counts: dict[str, int]
    changes: list[ChangeOut]
