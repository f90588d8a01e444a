"""Outputs through the API: the disclosure-controlled outputs made from your organisation's
collections, returned to you as a contributor, or shared with you, and each one's latest
figures. The same rules as the pages (``accord.outputs``): reading an output's figures is a
decision of the decision point (aggregate, for the outputs purpose), with this API token's own
scope, logged as a query and counted against your organisation's daily limit.

Needs a role that reads data. Outputs your organisation could not see are 404, the same as ones
that do not exist.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.http import Http404, HttpRequest
from ninja import Router, Schema

from accord.organisations.enums import DATA_READING_ROLES
from accord.outputs import queries as output_queries
from accord.outputs import recipes
from accord.outputs.models import Output, OutputDefinition
from accord.outputs.queries import OutputNotFound

from .agreements import DENIALS, _require
from .auth import Caller, caller
from .schemas import Problem

router = Router(tags=["outputs"])
READING = "read outputs"


class OutputSummary(Schema):
    id: uuid.UUID
    slug: str
    name: str
    description: str
    collection: str
    owner: str
    yours: bool  # made from your organisation's collection
    latest_period: dt.date | None
    made_at: dt.datetime | None


class Figure(Schema):
    period: dt.date
    area_level: str
    area_code: str
    area_name: str
    measure: str
    value: float | None  # None when suppressed or not available
    status: str  # published, suppressed, rounded, perturbed
    symbol: str  # GSS: [c] confidential, [x] not available; "" when a value is shown
    explanation: str


class Measure(Schema):
    name: str
    label: str
    unit: str
    counts_people: bool


class Caveat(Schema):
    organisation: str
    period: str
    caveat: str


class OutputDetail(OutputSummary):
    number: int
    contributors: list[str]
    rules: list[str]
    caveats: list[Caveat]
    measures: list[Measure]
    figures: list[Figure]


def _reader(request: HttpRequest, target: str = "") -> Caller:
    who = caller(request)
    _require(who, DATA_READING_ROLES, READING, target)
    return who


def _summary(definition: OutputDefinition, latest: Output | None, organisation_id: int) -> dict:
    return {
        "id": definition.pk,
        "slug": definition.slug,
        "name": definition.name,
        "description": definition.description,
        "collection": definition.collection.name,
        "owner": definition.collection.owner.name,
        "yours": definition.collection.owner_id == organisation_id,
        "latest_period": latest.periods_to if latest else None,
        "made_at": latest.made_at if latest else None,
    }


@router.get(
    "/outputs",
    response={200: list[OutputSummary], 401: Problem, 403: Problem},
    summary="Outputs made from your collections, returned to you, or shared with you",
)
def list_outputs(request: HttpRequest) -> list[OutputSummary]:
    """Each output your organisation can see: made from its own collections, made from returns
    it sent, or shared with it by the collection's owner, with the latest day it covers."""
    who = _reader(request)
    return [
        OutputSummary(**_summary(d, output_queries.latest_output(d), who.organisation_id))
        for d in output_queries.definitions_for(who.organisation_id)
    ]


@router.get(
    "/outputs/{output_id}",
    response={200: OutputDetail, **DENIALS},
    summary="An output's latest figures, disclosure-controlled",
)
def get_output(request: HttpRequest, output_id: uuid.UUID) -> OutputDetail:
    """Every figure of the output's latest version: one per day, area and measure, each with
    its status (published, suppressed, rounded) and GSS symbol, plus the rules it was protected
    by, the caveats of the returns it was made from and the organisations whose returns they
    were. 403 with the decision point's reason when it says no (your roles, the grant, this
    token's scope) or when your organisation has reached its daily limit; 404 for an output
    your organisation cannot see or that has not been made yet."""
    who = _reader(request, target=f"output_definition:{output_id}")
    try:
        definition = output_queries.definition_for(who.organisation_id, output_id)
    except OutputNotFound:
        raise Http404("There is no such output for your organisation.") from None
    latest = output_queries.latest_output(definition)
    if latest is None:
        raise Http404("This output has not been made yet.")
    # AccessDenied (a NotPermitted) is 403 with the decision point's reason.
    table = output_queries.read_output(latest, by=who.actor, kind="api")
    recipe = recipes.recipe_for(definition.recipe)
    return OutputDetail(
        **_summary(definition, latest, who.organisation_id),
        number=latest.number,
        contributors=sorted(latest.contributors.values_list("name", flat=True)),
        rules=output_queries.rules_text(latest),
        caveats=[
            Caveat(
                organisation=str(c.get("organisation", "")),
                period=str(c.get("period", "")),
                caveat=str(c.get("caveat", "")),
            )
            for c in latest.caveats
        ],
        measures=[
            Measure(name=m.name, label=m.label, unit=m.unit, counts_people=m.people)
            for m in recipe.measures
        ],
        figures=[
            Figure(**row) for row in table.select(list(recipes.COLUMNS)).iter_rows(named=True)
        ],
    )
