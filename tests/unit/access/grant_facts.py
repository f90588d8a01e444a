"""Facts with grants in them, for the decision point's rule and property tests (no database).

The shapes follow a county sharing housing benefit data with its districts
(``sharing.county_shares_housing_benefit``): identifiers pseudonymised, date of birth and
postcode generalised, each district limited to its own area's rows.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from accord.access.decisions import (
    Facts,
    FieldGrant,
    GrantFacts,
    MembershipFacts,
    Resource,
    TokenFacts,
)
from accord.access.enums import ResourceKind
from accord.audit.actor import ActorKind
from accord.organisations.enums import Role

from .helpers import NOW

TODAY = date(2025, 3, 1)  # NOW's date, in London as in UTC
assert NOW.date() == TODAY

COUNTY = "10"
DISTRICT = "20"
OTHER_DISTRICT = "30"
STRANGER = "40"
HEALTH_BOARD = "50"  # a second source of derived data

NAMES = {
    COUNTY: "Kent County Council",
    DISTRICT: "Maidstone Borough Council",
    OTHER_DISTRICT: "Canterbury City Council",
    STRANGER: "London Borough of Hackney",
    HEALTH_BOARD: "Kent and Medway ICB",
}
AREAS = {DISTRICT: "E07000110", OTHER_DISTRICT: "E07000106"}

DATASET = "housing-benefit-claims"
PURPOSE = "Target cost of living support to households on housing benefit"
PURPOSE_ID = "purpose-1"
TITLE = "Housing benefit data for district support schemes"
AGREEMENT = "a-hb"

HB_FIELDS = (
    FieldGrant("hb_claim_ref", "pseudonymise_keyed_hash"),
    FieldGrant("nino", "pseudonymise_keyed_hash", "identifier", "nino"),
    FieldGrant("date_of_birth", "generalise", "date"),
    FieldGrant("postcode", "generalise", "identifier", "postcode"),
    FieldGrant("uprn", "none", "identifier", "uprn"),
    FieldGrant("ltla_cd", "none", "identifier", "gss_code"),
    FieldGrant("claim_status", "none", "code"),
    FieldGrant("hb_weekly_award_band", "aggregate", "code"),
    FieldGrant("free_text_notes", "suppress"),
    FieldGrant("household_size", "none", "integer"),
)
PROHIBITED = (
    ("marketing", "Marketing"),
    ("immigration_enforcement", "Immigration enforcement"),
    ("reidentification", "Re-identification"),
)


def grant(**overrides: Any) -> GrantFacts:
    """The county's grant of housing benefit data to Maidstone, active on ``TODAY``."""
    recipient = overrides.get("recipient_id", DISTRICT)
    values: dict[str, Any] = {
        "agreement_id": AGREEMENT,
        "agreement_title": TITLE,
        "agreement_status": "active",
        "flow_id": "flow-1",
        "provider_id": COUNTY,
        "recipient_id": recipient,
        "dataset": DATASET,
        "fields": HB_FIELDS,
        "purposes": ((PURPOSE_ID, PURPOSE),),
        "actions": frozenset({"view", "extract"}),
        "row_filter": ("ltla_cd", (AREAS.get(recipient, "E00000000"),)),
        "prohibited_uses": PROHIBITED,
        "starts_on": date(2025, 1, 1),
        "ends_on": date(2026, 12, 31),
        "review_on": date(2025, 12, 31),
    }
    return GrantFacts(**(values | overrides))


def health_grant(**overrides: Any) -> GrantFacts:
    """A second source's grant to Maidstone on the same dataset: what it needs to read data
    derived from the county's and the health board's together."""
    values: dict[str, Any] = {
        "agreement_id": "a-health",
        "agreement_title": "Health and housing for vulnerable households",
        "provider_id": HEALTH_BOARD,
        "fields": (
            FieldGrant("nino", "none", "identifier", "nino"),
            FieldGrant("uprn", "pseudonymise_keyed_hash", "identifier", "uprn"),
            FieldGrant("postcode", "truncate", "identifier", "postcode"),
            FieldGrant("ltla_cd", "none", "identifier", "gss_code"),
            FieldGrant("claim_status", "none", "code"),
            FieldGrant("frailty_score", "none", "integer"),
        ),
        "row_filter": ("ltla_cd", ("E07000110", "E07000111")),
    }
    return grant(**(values | overrides))


def member(
    organisation_id: str = DISTRICT,
    *,
    roles: tuple[str, ...] = (Role.ANALYST,),
    organisation_active: bool = True,
    membership_active: bool = True,
) -> MembershipFacts:
    return MembershipFacts(
        organisation_id=organisation_id,
        organisation_name=NAMES.get(organisation_id, f"Council {organisation_id}"),
        organisation_active=organisation_active,
        membership_active=membership_active,
        roles=frozenset(roles),
    )


def reader(
    organisation_id: str = DISTRICT,
    *grants: GrantFacts,
    token: TokenFacts | None = None,
    **membership: Any,
) -> Facts:
    """A person acting for ``organisation_id``, a member of it, with ``grants`` to it."""
    return Facts(
        actor_kind=ActorKind.PERSON,
        actor_ref="user:7",
        acting_for=organisation_id,
        user_active=True,
        membership=member(organisation_id, **membership),
        grants=tuple(grants),
        token=token,
    )


def hb_data(**overrides: Any) -> Resource:
    """The county's housing benefit claims, as the vault describes them."""
    values: dict[str, Any] = {
        "kind": ResourceKind.DATASET,
        "id": "0b4c6f5e-hb",
        "owner_organisation_id": COUNTY,
        "description": "Housing benefit claims, November",
        "dataset": DATASET,
    }
    return Resource(**(values | overrides))


def with_status(facts: Facts, agreement_id: str, status: str) -> Facts:
    """``facts`` with every grant of ``agreement_id`` in ``status``."""
    return dataclasses.replace(
        facts,
        grants=tuple(
            dataclasses.replace(g, agreement_status=status) if g.agreement_id == agreement_id else g
            for g in facts.grants
        ),
    )
